using Chroma.Protocol.V1;
using Chroma.Server.Tests.TestSupport;
using Chroma.Server.Validation;
using Grpc.Core;

namespace Chroma.Server.Tests.Validation;

[TestFixture]
public sealed class RecordValidatorTests
{
    private static readonly LimitsOptions Limits = new();

    /// <summary>Each case breaks one field of an otherwise valid 128-d record (inference and metadata present).</summary>
    public static IEnumerable<TestCaseData> BrokenRecords()
    {
        static TestCaseData Case(string name, Action<Record> breakIt, string message) =>
            new TestCaseData(breakIt, message).SetName("Validate_" + name + "_NamesRecordAndField");

        yield return Case("NaNInTheMiddle", r => r.Embedding[77] = float.NaN, "records[3].embedding[77]: value is NaN");
        yield return Case("InfinityLast", r => r.Embedding[127] = float.PositiveInfinity, "records[3].embedding[127]: value is infinite");
        yield return Case("ShortEmbedding", r => r.Embedding.RemoveAt(5), "records[3].embedding: has 127 values, the set's dimension is 128");
        yield return Case("IdUpperCaseBraces", r => r.Id = "{" + r.Id + "}", "records[3].id: \"{");
        yield return Case("DatasetWithSpace", r => r.Dataset = "prod eu", "records[3].dataset: character 5 (U+0020) is not one of [A-Za-z0-9_.-]");
        yield return Case("LabelNotUtf8", r => r.Label = "a\uFFFDb", "records[3].label: is not valid UTF-8 (character 2 is U+FFFD");
        yield return Case("InputUriNotUtf8", r => r.InputUri = "\uFFFD", "records[3].input_uri: is not valid UTF-8");
        yield return Case("ClassNameNotUtf8", r => r.Inference.ClassNames[1] = "\uFFFD", "records[3].inference.class_names[1]: is not valid UTF-8");
        yield return Case("PredictedClassTooLong", r => r.Inference.PredictedClass = new string('p', 1025), "records[3].inference.predicted_class: is 1025 characters, limit 1024");
        yield return Case("ProbabilityInfinite", r => r.Inference.ClassProbabilities[0] = float.NegativeInfinity, "records[3].inference.class_probabilities[0]: value is infinite");
        yield return Case("MetadataValueNotUtf8", r => r.Metadata["parity"] = "\uFFFD", "records[3].metadata[\"parity\"]: value is not valid UTF-8");
        yield return Case("MetadataKeyNotUtf8", r => r.Metadata["\uFFFD"] = "v", "records[3].metadata: key \"\uFFFD\" is not valid UTF-8");
        yield return Case("TimestampPastYear9999", r => r.TimestampUnixMs = 253_402_300_800_000, "records[3].timestamp_unix_ms: 253402300800000 is outside the dates a timestamp can name (years 1-9999");
        yield return Case("TimestampLongMax", r => r.TimestampUnixMs = long.MaxValue, "records[3].timestamp_unix_ms: 9223372036854775807 is outside");
        yield return Case("TimestampBeforeYear1", r => r.TimestampUnixMs = -62_135_596_800_001, "records[3].timestamp_unix_ms: -62135596800001 is outside");
    }

    [TestCaseSource(nameof(BrokenRecords))]
    public void Validate_BrokenField_NamesRecordAndField(Delegate breakIt, string message)
    {
        // Arrange: the fourth record of a 128-d batch is broken (the delegate is loosely typed: Record is internal).
        var batch = Records.Batch(Records.Set(dimension: 128), Records.Sequence(5, dimension: 128));
        ((Action<Record>)breakIt)(batch.Records[3]);

        // Act
        var error = BatchValidator.Validate(batch, Limits);
        var plain = RecordValidator.IsPlainlyValid(batch.Records[3], 128, Limits);

        // Assert
        Assert.That(error, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(plain, Is.False, "the allocation-free check must not pass a record the full check refuses");
            Assert.That(error!.Code, Is.EqualTo(StatusCode.InvalidArgument));
            Assert.That(error.Message, Does.StartWith(message));
            Assert.That(error.RecordIndex, Is.EqualTo(3));
        });
    }

    [TestCase(0L)]
    [TestCase(-5L)]
    [TestCase(-62_135_596_800_000L)]
    [TestCase(253_402_300_799_999L)]
    public void Validate_TimestampAtOrWithinTheEndsOfTheDates_IsAccepted(long unixMs)
    {
        // Arrange: 0 (unknown), before 1970, and both ends of what a DateTimeOffset can name.
        var record = Records.Sequence(1, dimension: 128)[0];
        record.TimestampUnixMs = unixMs;

        // Act
        var plain = RecordValidator.IsPlainlyValid(record, 128, Limits);
        var error = RecordValidator.Validate(record, 0, 128, Limits);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(plain, Is.True);
            Assert.That(error, Is.Null);
            Assert.That(DateTimeOffset.FromUnixTimeMilliseconds(unixMs).ToUnixTimeMilliseconds(), Is.EqualTo(unixMs));
        });
    }

    [Test]
    public void IsPlainlyValid_FullValidRecord_PassesWithoutTheFullCheck()
    {
        // Arrange: inference with names and probabilities, metadata, label and input URI all present.
        var record = Records.Sequence(1, dimension: 128)[0];

        // Act
        var plain = RecordValidator.IsPlainlyValid(record, 128, Limits);
        var error = RecordValidator.Validate(record, 0, 128, Limits);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(plain, Is.True);
            Assert.That(error, Is.Null);
        });
    }

    [Test]
    public void Validate_ProbabilitiesWithoutNamesOrMetadata_AcceptedByBothChecks()
    {
        // Arrange: probabilities without class names, no predicted class, no metadata: valid for both checks.
        var record = Records.Sequence(1, dimension: 16)[0];
        record.Inference.ClassNames.Clear();
        record.Inference.PredictedClass = string.Empty;
        record.Metadata.Clear();

        // Act
        var plain = RecordValidator.IsPlainlyValid(record, 16, Limits);
        var error = RecordValidator.Validate(record, 0, 16, Limits);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(plain, Is.True);
            Assert.That(error, Is.Null);
        });
    }
}
