using Chroma.Server.Services;
using Chroma.Server.Services.Internal;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Services;

[TestFixture]
public sealed class IngestOptionsValidatorTests
{
    public static IEnumerable<TestCaseData> BadOptions()
    {
        static TestCaseData Case(string name, Action<IngestOptions> breakIt, string fragment) =>
            new TestCaseData(breakIt, fragment).SetName("Validate_" + name + "_FailsNamingTheSetting");

        yield return Case("ZeroPendingIngest", o => o.MaxPendingRecords = 0, "Chroma:Ingest:MaxPendingRecords (Chroma__Ingest__MaxPendingRecords) must be between 1 and 10000000 (got 0)");
        yield return Case("ZeroRetryAfter", o => o.RetryAfter = TimeSpan.Zero, "Chroma:Ingest:RetryAfter (Chroma__Ingest__RetryAfter) must be between 1 ms and 1 minute");
        yield return Case("HourRetryAfter", o => o.RetryAfter = TimeSpan.FromHours(1), "Chroma:Ingest:RetryAfter (Chroma__Ingest__RetryAfter) must be between 1 ms and 1 minute");
        yield return Case("NegativeIdleTimeout", o => o.StreamIdleTimeout = TimeSpan.FromSeconds(-1), "Chroma:Ingest:StreamIdleTimeout (Chroma__Ingest__StreamIdleTimeout) must be between 0 (never) and 1 day");
    }

    [TestCaseSource(nameof(BadOptions))]
    public void Validate_BadIngestOption_FailsNamingIt(Action<IngestOptions> breakIt, string fragment)
    {
        // Arrange
        var options = new IngestOptions();
        breakIt(options);

        // Act
        var problems = ValidatorAssert.Problems(new IngestOptionsValidator(), options);

        // Assert
        Assert.That(problems, Does.Contain(fragment));
    }

    [Test]
    public void Validate_DefaultsAndZeroIdleTimeout_Succeeds()
    {
        ValidatorAssert.Valid(new IngestOptionsValidator(), new IngestOptions());
        ValidatorAssert.Valid(new IngestOptionsValidator(), new IngestOptions { StreamIdleTimeout = TimeSpan.Zero });
    }
}
