using Chroma.Server.Hosting;
using Chroma.Server.Hosting.Internal;

namespace Chroma.Server.Tests.Hosting;

[TestFixture]
public sealed class ChromaServerOptionsValidatorTests
{
    public static IEnumerable<TestCaseData> BadOptions()
    {
        static TestCaseData Case(string name, Action<ChromaServerOptions> breakIt, string fragment) =>
            new TestCaseData(breakIt, fragment).SetName("Validate_" + name + "_Throws");

        yield return Case("HostName", o => o.Host = "example.com", "Host must be \"localhost\", \"*\" or an IP address");
        yield return Case("EmptyHost", o => o.Host = "", "Host must be");
        yield return Case("NegativePort", o => o.Port = -1, "Port must be between 0 and 65535 (got -1)");
        yield return Case("HugePort", o => o.Port = 70_000, "Port must be between 0 and 65535");
        yield return Case("BlankDataDirectory", o => o.DataDirectory = " ", "DataDirectory must name a folder");
        yield return Case("BlankApiKey", o => o.ApiKey = "", "ApiKey must be null");
        yield return Case("ZeroBatch", o => o.MaxBatchRecords = 0, "MaxBatchRecords must be between 1");
        yield return Case("ZeroDimension", o => o.MaxDimension = 0, "MaxDimension must be between 1");
        yield return Case("TinyMessages", o => o.MaxMessageBytes = 10, "MaxMessageBytes must be between 1024");
        yield return Case("ZeroPageSize", o => o.MaxPageSize = 0, "MaxPageSize must be between 1");
        yield return Case("ZeroPendingIngest", o => o.MaxPendingIngestRecords = 0, "MaxPendingIngestRecords must be between 1 and 10000000 (got 0)");
        yield return Case("ZeroRetryAfter", o => o.IngestRetryAfter = TimeSpan.Zero, "IngestRetryAfter must be between 1 ms and 1 minute");
        yield return Case("HourRetryAfter", o => o.IngestRetryAfter = TimeSpan.FromHours(1), "IngestRetryAfter must be between 1 ms and 1 minute");
        yield return Case("KeyWithoutCertificate", o => o.CertificateKeyPath = "server.key", "CertificatePath must be set when CertificateKeyPath or CertificatePassword is");
        yield return Case("MissingCertificate", o => o.CertificatePath = "/no/such/server.pfx", "CertificatePath names no file");
        yield return Case("NegativeDebounce", o => o.ScoringDebounce = TimeSpan.FromMilliseconds(-1), "ScoringDebounce must be between 0 and 1 hour");
        yield return Case("MaxDelayBelowDebounce", o => o.ScoringMaxDelay = TimeSpan.FromMilliseconds(100), "ScoringMaxDelay must be between ScoringDebounce");
        yield return Case("UndefinedIntegrityCheck", o => o.IntegrityCheck = (Chroma.Server.Storage.IntegrityCheckMode)9, "IntegrityCheck must be Off, Quick or Full");
        yield return Case("NegativeIdleTimeout", o => o.IngestStreamIdleTimeout = TimeSpan.FromSeconds(-1), "IngestStreamIdleTimeout must be between 0 (never) and 1 day");
        yield return Case("ZeroShutdownTimeout", o => o.ShutdownTimeout = TimeSpan.Zero, "ShutdownTimeout must be between 1 second and 5 minutes");
        yield return Case("OneRecordDriftWindow", o => o.DriftWindow = 1, "DriftWindow must be between 2 and 100000 (got 1)");
        yield return Case("ZeroLease", o => o.Scoring.LeaseDuration = TimeSpan.Zero, "Scoring.LeaseDuration must be between 1 second and 1 hour (Chroma:Scoring:LeaseDuration");
        yield return Case("PollAboveThirdOfLease", o => o.Scoring.ChangePollInterval = TimeSpan.FromSeconds(6), "at most a third of Scoring.LeaseDuration");
        yield return Case("RetentionRuleWithoutSet", o => o.Retention.Rules.Add(new() { Dataset = "production", MaxAge = TimeSpan.FromDays(30) }),
            "Retention.Rules[0].Set must name an embedding set id, or \"*\" for every set (Chroma:Retention:Rules:0:Set)");
        yield return Case("RetentionRuleWithoutDataset", o => o.Retention.Rules.Add(new() { Set = "*", MaxAge = TimeSpan.FromDays(30) }),
            "Retention.Rules[0].Dataset must name a dataset");
        yield return Case("RetentionRuleWithoutAge", o => o.Retention.Rules.Add(new() { Set = "*", Dataset = "production" }),
            "Retention.Rules[0].MaxAge must be between 1 minute and 100 years, e.g. 30.00:00:00 for 30 days (Chroma:Retention:Rules:0:MaxAge, got 00:00:00)");
        yield return Case("RetentionRuleTwice", o =>
            {
                o.Retention.Rules.Add(new() { Set = "*", Dataset = "production", MaxAge = TimeSpan.FromDays(30) });
                o.Retention.Rules.Add(new() { Set = "*", Dataset = "production", MaxAge = TimeSpan.FromDays(7) });
            },
            "Retention.Rules[1] repeats the rule for set \"*\" and dataset \"production\" (Chroma:Retention:Rules:1)");
        yield return Case("ZeroRetentionBatch", o => o.Retention.BatchSize = 0, "Retention.BatchSize must be between 1 and 100000 (got 0) (Chroma:Retention:BatchSize)");
    }

    [TestCaseSource(nameof(BadOptions))]
    public void Validate_BadOption_ThrowsArgumentExceptionNamingIt(Action<ChromaServerOptions> breakIt, string fragment)
    {
        // Arrange
        var options = new ChromaServerOptions();
        breakIt(options);

        // Act
        var ex = Assert.Throws<ArgumentException>(() => ChromaServerOptionsValidator.Validate(options));

        // Assert
        Assert.That(ex!.Message, Does.Contain(fragment));
    }

    [TestCase("localhost")]
    [TestCase("*")]
    [TestCase("127.0.0.1")]
    [TestCase("::1")]
    public void Validate_DefaultsWithSupportedHost_DoesNotThrow(string host)
    {
        // Arrange
        var options = new ChromaServerOptions { Host = host, ApiKey = "secret" };

        // Act / Assert
        Assert.DoesNotThrow(() => ChromaServerOptionsValidator.Validate(options));
    }
}
