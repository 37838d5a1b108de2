using System.Net;
using Chroma.Server.Security;
using Chroma.Server.Tests.Reliability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Chroma.Server.Tests.Web;

/// <summary>Wrong API keys are said in the log (security probe F5): counted, at most one warning a minute, never the key.</summary>
[TestFixture]
public sealed class RejectedKeysTests
{
    [Test]
    public void Rejected_ManyWithinAMinute_OneWarningThenTheNextMinutesCount()
    {
        var time = new FakeTimeProvider();
        using var logs = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        var rejected = new RejectedKeys(factory.CreateLogger<RejectedKeys>(), time);

        for (var i = 0; i < 50; i++)
        {
            rejected.Rejected("/chroma.v1.Query/ListSets", IPAddress.Loopback);
        }

        var afterBurst = logs.Entries.Count;
        time.Advance(RejectedKeys.Interval);
        rejected.Rejected("Studio sign-in", IPAddress.Parse("10.0.0.9"));

        var warnings = logs.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(afterBurst, Is.EqualTo(1), "one warning for the first minute's burst");
            Assert.That(warnings, Has.Count.EqualTo(2));
            Assert.That(warnings[0], Does.Contain("Refused 1 ").And.Contain("127.0.0.1"));
            Assert.That(warnings[1], Does.Contain("Refused 50 ").And.Contain("Studio sign-in from 10.0.0.9"), "the next warning counts what the first held back");
            Assert.That(rejected.Total, Is.EqualTo(51));
        });
    }
}
