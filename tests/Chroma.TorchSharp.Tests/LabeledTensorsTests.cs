using Chroma.Protocol.V1;

namespace Chroma.TorchSharp.Tests;

/// <summary>
/// Labeled records as tensors for retraining: known answers, and the records it cannot use named instead of skipped
/// (probe M, M4: records read without embeddings gave a [0, 0] matrix and no error, and a later torch.cat failed).
/// </summary>
[TestFixture]
[Category("torch")]
public sealed class LabeledTensorsTests
{
    private static readonly string[] Digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    [Test]
    public void ToTensors_LabeledProductionAndUnlabeledTrainingRecords_TheLabeledOnesAsFeaturesAndClassIndices()
    {
        ChromaRecord[] records = [Labeled("a", [1, 2, 3], "7"), Training("t", [9, 9, 9]), Labeled("b", [4, 5, 6], "3")];

        var (features, labels) = LabeledTensors.ToTensors(records, Digits);
        using (features)
        using (labels)
        {
            Assert.Multiple(() =>
            {
                Assert.That(features.shape, Is.EqualTo(new long[] { 2, 3 }));
                Assert.That(features.data<float>().ToArray(), Is.EqualTo(new float[] { 1, 2, 3, 4, 5, 6 }));
                Assert.That(labels.data<long>().ToArray(), Is.EqualTo(new long[] { 7, 3 }));
            });
        }
    }

    [Test]
    public void ToTensors_LabeledRecordsReadWithoutEmbeddings_ThrowsSayingHowToReadThem()
    {
        ChromaRecord[] records = [Labeled("a", [], "7"), Labeled("b", [], "3"), Labeled("c", [1, 2, 3], "1")];

        Assert.That(
            () => LabeledTensors.ToTensors(records, Digits),
            Throws.ArgumentException.With.Message.Contains("2 of 3 labeled records carry no embedding").And.Message.Contains("includeEmbeddings: true"));
    }

    [Test]
    public void ToTensors_LabelNotAmongTheClassNames_ThrowsNamingTheRecordAndTheLabel()
    {
        ChromaRecord[] records = [Labeled("a", [1, 2, 3], "cat")];

        Assert.That(
            () => LabeledTensors.ToTensors(records, Digits),
            Throws.ArgumentException.With.Message.Contains("record 'a' has label 'cat'"));
    }

    private static ChromaRecord Labeled(string id, float[] embedding, string label) =>
        Make(id, "production", embedding, new Protocol.V1.RecordReview { State = Protocol.V1.ReviewState.Reviewed, Label = label, LabeledBy = "ada" });

    private static ChromaRecord Training(string id, float[] embedding) => Make(id, "training", embedding, review: null);

    private static ChromaRecord Make(string id, string dataset, float[] embedding, Protocol.V1.RecordReview? review)
    {
        var record = new Record { Id = id, Dataset = dataset };
        record.Embedding.AddRange(embedding);
        return new ChromaRecord(new StoredRecord { Record = record, SetId = "s/1/fc", Sequence = 1, Review = review });
    }
}
