using Chroma.Server.Security.Internal;
using Chroma.Server.Tests.Reliability;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Chroma.Server.Tests.Security;

/// <summary>
/// The server says in its log when its TLS certificate is expired, not valid yet or expires soon (probe X, X4: an expired
/// one started without a word): at start and once a day after.
/// </summary>
[TestFixture]
public sealed class CertificateValidityWatchTests
{
    private static readonly DateTimeOffset NotBefore = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset NotAfter = new(2026, 12, 31, 0, 0, 0, TimeSpan.Zero);

    [TestCase("2026-06-01", null, TestName = "Problem_WellWithinItsDates_Nothing")]
    [TestCase("2026-12-20", "expires on 2026-12-31 00:00:00Z (11.0 days from now)", TestName = "Problem_WithinTheWarningWindow_SaysWhenItExpires")]
    [TestCase("2027-01-02", "expired on 2026-12-31 00:00:00Z", TestName = "Problem_AfterItsEnd_SaysItExpired")]
    [TestCase("2025-12-01", "is not valid before 2026-01-01 00:00:00Z", TestName = "Problem_BeforeItsStart_SaysNotValidYet")]
    public void Problem_ByDate(string now, string? expected)
    {
        var problem = CertificateValidityWatch.Problem(NotBefore, NotAfter, DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture));

        Assert.That(problem, expected is null ? Is.Null : Does.StartWith(expected));
    }

    [Test, CancelAfter(30_000)]
    public async Task StartAsync_ExpiredCertificate_LogsAnErrorBeforeServing(CancellationToken cancellationToken)
    {
        // Arrange
        using var certificates = new TestCertificates();
        var now = DateTimeOffset.UtcNow;
        var (watch, logs) = Watch(certificates, now.AddDays(-30), now.AddDays(-1), new FakeTimeProvider(now));
        using var owned = watch;

        // Act: the first check runs before StartAsync returns.
        await watch.StartAsync(cancellationToken);
        var atStart = logs.Entries.ToList();
        await watch.StopAsync(cancellationToken);

        // Assert
        Assert.That(atStart.Select(e => (e.Level, e.Event.Id)), Is.EqualTo(new[] { (LogLevel.Error, 5) }));
        Assert.That(atStart[0].Message, Does.Contain("(CN=watched) expired on").And.Contain("renew Chroma:Certificate"));
    }

    [Test]
    public void Check_AsTheEndNears_NothingThenAWarningThenAnError()
    {
        // Arrange: 15.5 days left at first.
        using var certificates = new TestCertificates();
        var start = DateTimeOffset.UtcNow;
        var clock = new FakeTimeProvider(start);
        var (watch, logs) = Watch(certificates, start.AddDays(-30), start.AddDays(15.5), clock);
        using var owned = watch;

        // Act: a check a day for 17 days.
        var levels = new List<LogLevel?>();
        for (var day = 0; day <= 17; day++)
        {
            var before = logs.Entries.Count;
            watch.Check();
            levels.Add(logs.Entries.Count > before ? logs.Entries.Last().Level : null);
            clock.Advance(TimeSpan.FromDays(1));
        }

        // Assert: nothing with 15.5 and 14.5 days left, a warning from 13.5 days to 0.5, then errors.
        Assert.Multiple(() =>
        {
            Assert.That(levels.Take(2), Is.All.Null);
            Assert.That(levels.Skip(2).Take(14), Is.All.EqualTo(LogLevel.Warning));
            Assert.That(levels.Skip(16), Is.All.EqualTo(LogLevel.Error));
            Assert.That(logs.Entries.First().Message, Does.Contain("expires on").And.Contain("13.5 days from now"));
        });
    }

    private static (CertificateValidityWatch Watch, CapturingLoggerProvider Logs) Watch(
        TestCertificates certificates, DateTimeOffset notBefore, DateTimeOffset notAfter, TimeProvider clock)
    {
        var files = certificates.SelfSigned("watched", notBefore, notAfter);
        using var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(files.CertificatePath, files.KeyPath);
        var logs = new CapturingLoggerProvider();
        var logger = new LoggerFactory([logs]).CreateLogger<CertificateValidityWatch>();
        return (new CertificateValidityWatch(certificate, clock, logger), logs);
    }
}
