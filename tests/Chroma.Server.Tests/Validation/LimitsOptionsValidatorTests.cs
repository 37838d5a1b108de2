using Chroma.Server.Tests.TestSupport;
using Chroma.Server.Validation;
using Chroma.Server.Validation.Internal;

namespace Chroma.Server.Tests.Validation;

[TestFixture]
public sealed class LimitsOptionsValidatorTests
{
    public static IEnumerable<TestCaseData> BadOptions()
    {
        static TestCaseData Case(string name, Action<LimitsOptions> breakIt, string fragment) =>
            new TestCaseData(breakIt, fragment).SetName("Validate_" + name + "_FailsNamingTheSetting");

        yield return Case("ZeroBatch", o => o.MaxBatchRecords = 0, "Chroma:Limits:MaxBatchRecords (Chroma__Limits__MaxBatchRecords) must be between 1");
        yield return Case("ZeroDimension", o => o.MaxDimension = 0, "Chroma:Limits:MaxDimension (Chroma__Limits__MaxDimension) must be between 1");
        yield return Case("TinyMessages", o => o.MaxMessageBytes = 10, "Chroma:Limits:MaxMessageBytes (Chroma__Limits__MaxMessageBytes) must be between 1024");
        yield return Case("NegativeMetadataEntries", o => o.MaxMetadataEntries = -1, "Chroma:Limits:MaxMetadataEntries (Chroma__Limits__MaxMetadataEntries) must be between 0 and 10000 (got -1)");
        yield return Case("ZeroMetadataKey", o => o.MaxMetadataKeyLength = 0, "Chroma:Limits:MaxMetadataKeyLength (Chroma__Limits__MaxMetadataKeyLength) must be between 1");
        yield return Case("ZeroMetadataValue", o => o.MaxMetadataValueLength = 0, "Chroma:Limits:MaxMetadataValueLength (Chroma__Limits__MaxMetadataValueLength) must be between 1");
        yield return Case("ZeroInputUri", o => o.MaxInputUriLength = 0, "Chroma:Limits:MaxInputUriLength (Chroma__Limits__MaxInputUriLength) must be between 1");
        yield return Case("ZeroPageSize", o => o.MaxPageSize = 0, "Chroma:Limits:MaxPageSize (Chroma__Limits__MaxPageSize) must be between 1");
    }

    [TestCaseSource(nameof(BadOptions))]
    public void Validate_BadLimit_FailsNamingIt(Action<LimitsOptions> breakIt, string fragment)
    {
        // Arrange
        var options = new LimitsOptions();
        breakIt(options);

        // Act
        var problems = ValidatorAssert.Problems(new LimitsOptionsValidator(), options);

        // Assert
        Assert.That(problems, Does.Contain(fragment));
    }

    [Test]
    public void Validate_Defaults_Succeeds() => ValidatorAssert.Valid(new LimitsOptionsValidator(), new LimitsOptions());
}
