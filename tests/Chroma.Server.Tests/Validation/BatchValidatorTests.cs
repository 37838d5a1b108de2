using Chroma.Protocol.V1;
using Chroma.Server.Tests.TestSupport;
using Chroma.Server.Validation;
using Grpc.Core;

namespace Chroma.Server.Tests.Validation;

[TestFixture]
public sealed class BatchValidatorTests
{
    private static readonly LimitsOptions Limits = new() { MaxBatchRecords = 5, MaxDimension = 8 };

    /// <summary>Each case breaks one thing in an otherwise valid two-record batch.</summary>
    public static IEnumerable<TestCaseData> BadBatches()
    {
        static TestCaseData Case(string name, Action<LogBatch> breakIt, string fragment, int recordIndex = -1) =>
            new TestCaseData(breakIt, fragment, recordIndex).SetName("Validate_" + name + "_InvalidArgument");

        yield return Case("NoSet", b => b.Set = null, "set: is required");
        yield return Case("EmptyModel", b => b.Set.Model = "", "set.model: is required");
        yield return Case("ModelWithSlash", b => b.Set.Model = "a/b", "set.model: character 2 ('/' U+002F) is not one of [A-Za-z0-9_.-]");
        yield return Case("ModelNotAscii", b => b.Set.Model = "d\u00EDgitos", "set.model: character 2 ('\u00ED' U+00ED) is not one of [A-Za-z0-9_.-]");
        yield return Case("ModelBadFirstCharacter", b => b.Set.Model = "/ab", "set.model: character 1 ('/' U+002F)");
        yield return Case("ModelWithEmoji", b => b.Set.Model = "ab\U0001F600", "set.model: character 3 ('\U0001F600' U+1F600)");
        yield return Case("LongVersion", b => b.Set.ModelVersion = new string('v', 129), "set.model_version: is 129 characters, limit 128");
        yield return Case("LayerWithSpace", b => b.Set.Layer = "fc 1", "set.layer: character 3 (U+0020)");
        yield return Case("DimensionZero", b => b.Set.Dimension = 0, "set.dimension: must be between 1 and 8 (got 0)");
        yield return Case("DimensionOverLimit", b => b.Set.Dimension = 9, "set.dimension: must be between 1 and 8 (got 9)");
        yield return Case("EmptyBatch", b => b.Records.Clear(), "records: batch is empty");
        yield return Case("TooManyRecords", b => b.Records.AddRange(Records.Sequence(4)), "records: batch has 6 records, limit 5");
        yield return Case("LongBatchId", b => b.BatchId = new string('b', 129), "batch_id: is 129 characters, limit 128");
        yield return Case("MissingId", b => b.Records[1].Id = "", "records[1].id: is required", 1);
        yield return Case("IdNotUuid", b => b.Records[1].Id = "record-1", "records[1].id: \"record-1\" is not a UUID", 1);
        yield return Case("IdWithoutHyphens", b => b.Records[0].Id = Guid.NewGuid().ToString("N"), "records[0].id:", 0);
        yield return Case("IdInBraces", b => b.Records[0].Id = Guid.NewGuid().ToString("B"), "is not a UUID in canonical 8-4-4-4-12 hex form", 0);
        yield return Case("DuplicateIds", b => b.Records[1].Id = b.Records[0].Id.ToUpperInvariant(), "records[1].id: ", 1);
        yield return Case("EmptyDataset", b => b.Records[0].Dataset = "", "records[0].dataset: is required", 0);
        yield return Case("LongDataset", b => b.Records[0].Dataset = new string('d', 65), "records[0].dataset: is 65 characters, limit 64", 0);
        yield return Case("DatasetWithSlash", b => b.Records[0].Dataset = "prod/eu", "records[0].dataset: character 5 ('/' U+002F)", 0);
        yield return Case("EmptyEmbedding", b => b.Records[1].Embedding.Clear(), "records[1].embedding: is empty", 1);
        yield return Case("ShortEmbedding", b => b.Records[1].Embedding.RemoveAt(0), "records[1].embedding: has 3 values, the set's dimension is 4", 1);
        yield return Case("NaN", b => b.Records[1].Embedding[2] = float.NaN, "records[1].embedding[2]: value is NaN", 1);
        yield return Case("Infinity", b => b.Records[0].Embedding[3] = float.NegativeInfinity, "records[0].embedding[3]: value is infinite", 0);
        yield return Case("ValueTooLarge", b => b.Records[1].Embedding[2] = 1e19f, "records[1].embedding[2]: value 1E+19 is too large", 1);
        yield return Case("LargestFloat", b => b.Records[0].Embedding[0] = float.MinValue, "records[0].embedding[0]: value -3.4028235E+38 is too large", 0);
        yield return Case("LongInputUri", b => b.Records[0].InputUri = new string('u', 2049), "records[0].input_uri: is 2049 characters, limit 2048", 0);
        yield return Case("LongLabel", b => b.Records[0].Label = new string('l', 1025), "records[0].label: is 1025 characters, limit 1024", 0);
        yield return Case("NaNProbability", b => b.Records[0].Inference.ClassProbabilities[1] = float.NaN, "records[0].inference.class_probabilities[1]: value is NaN", 0);
        yield return Case("ClassNamesMismatch", b => b.Records[0].Inference.ClassNames.Add("c"), "records[0].inference.class_names: has 3 names for 2 class_probabilities", 0);
        yield return Case("LongPredictedClass", b => b.Records[0].Inference.PredictedClass = new string('p', 1025), "records[0].inference.predicted_class: is 1025 characters", 0);
        yield return Case("TooManyMetadata", b => { for (var i = 0; i < 32; i++) { b.Records[1].Metadata["k" + i] = "v"; } }, "records[1].metadata: has 33 entries, limit 32", 1);
        yield return Case("EmptyMetadataKey", b => b.Records[0].Metadata[""] = "v", "records[0].metadata: a key is empty", 0);
        yield return Case("LongMetadataKey", b => b.Records[0].Metadata[new string('k', 129)] = "v", "records[0].metadata: key \"kkkk", 0);
        yield return Case("LongMetadataValue", b => b.Records[0].Metadata["k"] = new string('v', 1025), "records[0].metadata[\"k\"]: value is 1025 characters, limit 1024", 0);
    }

    [TestCaseSource(nameof(BadBatches))]
    public void Validate_BadBatch_ReturnsInvalidArgumentNamingTheField(Delegate breakIt, string fragment, int recordIndex)
    {
        // Arrange (the delegate is typed loosely only because LogBatch is internal to the server)
        var batch = Records.Batch(Records.Set(dimension: 4), Records.Sequence(2));
        ((Action<LogBatch>)breakIt)(batch);

        // Act
        var error = BatchValidator.Validate(batch, Limits);

        // Assert
        Assert.That(error, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(error!.Code, Is.EqualTo(StatusCode.InvalidArgument));
            Assert.That(error.Message, Does.Contain(fragment));
            Assert.That(error.RecordIndex, Is.EqualTo(recordIndex));
        });
    }

    [Test]
    public void Validate_SeveralBadRecords_ListsEveryOffendingRecordInIndexOrder()
    {
        // Arrange: records 1, 3 and 4 are bad (NaN, long label, id repeating record 0); 0 and 2 are fine.
        var batch = Records.Batch(Records.Set(dimension: 4), Records.Sequence(5));
        batch.Records[1].Embedding[2] = float.NaN;
        batch.Records[3].Label = new string('l', 1025);
        batch.Records[4].Id = batch.Records[0].Id;

        // Act
        var error = BatchValidator.Validate(batch, Limits);

        // Assert: the first is the error itself (older clients read only that), then the others.
        Assert.That(error, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(error!.RecordIndex, Is.EqualTo(1));
            Assert.That(error.Message, Is.EqualTo("records[1].embedding[2]: value is NaN"));
            Assert.That(error.RecordErrors.Select(e => e.RecordIndex), Is.EqualTo(new[] { 1, 3, 4 }));
            Assert.That(error.RecordErrors[1].Message, Does.StartWith("records[3].label: is 1025 characters, limit 1024"));
            Assert.That(error.RecordErrors[2].Message, Does.Contain("repeats records[0].id"));
            Assert.That(error.RecordErrors.Select(e => e.Code), Is.All.EqualTo(StatusCode.InvalidArgument));
        });
    }

    [Test]
    public void Validate_InvalidRecordRepeatsAnId_OnlyTheInvalidRecordIsListed()
    {
        // Arrange: record 0 is invalid; record 1 has its id. Once record 0 is dropped, record 1 is fine.
        var batch = Records.Batch(Records.Set(dimension: 4), Records.Sequence(2));
        batch.Records[0].Embedding[0] = float.NaN;
        batch.Records[1].Id = batch.Records[0].Id;

        // Act
        var error = BatchValidator.Validate(batch, Limits);

        // Assert
        Assert.That(error?.RecordErrors.Select(e => e.RecordIndex), Is.EqualTo(new[] { 0 }));
    }

    [Test]
    public void Validate_BatchLevelError_ListsNoRecords()
    {
        // Arrange: too many records, some of them bad too.
        var batch = Records.Batch(Records.Set(dimension: 4), Records.Sequence(6));
        batch.Records[0].Embedding[0] = float.NaN;

        // Act
        var error = BatchValidator.Validate(batch, Limits);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(error?.RecordIndex, Is.EqualTo(-1));
            Assert.That(error?.RecordErrors, Is.Empty);
        });
    }

    [Test]
    public void Validate_ValidBatchAtTheLimits_ReturnsNull()
    {
        // Arrange: five records (the limit), dimension 8 (the limit), metadata and URIs at their limits.
        var records = Records.Sequence(5, dimension: 8);
        records[0].Id = records[0].Id.ToUpperInvariant();
        records[1].InputUri = new string('u', 2048);
        records[2].Metadata.Clear();
        for (var i = 0; i < 32; i++)
        {
            records[2].Metadata[new string('k', 120) + i.ToString("D3", System.Globalization.CultureInfo.InvariantCulture)] = new string('v', 1024);
        }

        var batch = Records.Batch(Records.Set(dimension: 8), records);

        // Act
        var error = BatchValidator.Validate(batch, Limits);

        // Assert
        Assert.That(error, Is.Null);
    }
}
