using Chroma.Protocol.V1;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Chroma.MLNet.Tests;

/// <summary>
/// Labeled records as an ML.NET data view: the records it cannot use are named instead of skipped (probe M, M4:
/// records read without embeddings gave an empty view and no error).
/// </summary>
[TestFixture]
public sealed class LabeledDataTests
{
    [Test]
    public void ToDataView_LabeledAndUnlabeledRecords_RowsOfTheLabeledOnes()
    {
        ChromaRecord[] records = [Labeled("a", [1, 2, 3], "7"), Unlabeled("t", [9, 9, 9]), Labeled("b", [4, 5, 6], "3")];

        var view = records.ToDataView(new MLContext(seed: 1));

        var labels = view.GetColumn<string>(LabeledData.LabelColumn).ToArray();
        var features = view.GetColumn<VBuffer<float>>(LabeledData.FeaturesColumn).Select(v => v.DenseValues().ToArray()).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(labels, Is.EqualTo(new[] { "7", "3" }));
            Assert.That(features.SelectMany(f => f), Is.EqualTo(new float[] { 1, 2, 3, 4, 5, 6 }));
        });
    }

    [Test]
    public void ToDataView_LabeledRecordsReadWithoutEmbeddings_ThrowsSayingHowToReadThem()
    {
        ChromaRecord[] records = [Labeled("a", [], "7"), Labeled("b", [1, 2, 3], "3")];

        Assert.That(
            () => records.ToDataView(new MLContext(seed: 1)),
            Throws.ArgumentException.With.Message.Contains("1 of 2 labeled records carry no embedding").And.Message.Contains("includeEmbeddings: true"));
    }

    private static ChromaRecord Labeled(string id, float[] embedding, string label) =>
        Make(id, embedding, new Protocol.V1.RecordReview { State = Protocol.V1.ReviewState.Reviewed, Label = label, LabeledBy = "ada" });

    private static ChromaRecord Unlabeled(string id, float[] embedding) => Make(id, embedding, review: null);

    private static ChromaRecord Make(string id, float[] embedding, Protocol.V1.RecordReview? review)
    {
        var record = new Record { Id = id, Dataset = "production" };
        record.Embedding.AddRange(embedding);
        return new ChromaRecord(new StoredRecord { Record = record, SetId = "s/1/fc", Sequence = 1, Review = review });
    }
}
