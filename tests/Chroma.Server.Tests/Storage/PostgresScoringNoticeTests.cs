using Chroma.Server.Storage.Postgres.Internal;

namespace Chroma.Server.Tests.Storage;

/// <summary>The payloads of the scoring notices: what is sent is read back, anything else calls nothing.</summary>
[TestFixture]
public sealed class PostgresScoringNoticeTests
{
    [Test]
    public void Dispatch_PayloadsOfEveryKind_ParsedOrIgnored()
    {
        // Arrange
        var sink = new PostgresNoticeListenerTests.RecordingSink();

        // Act
        var ranking = PostgresScoringNotice.Dispatch(PostgresScoringNotice.FormatRanking(7, 12), sink);
        var wanted = PostgresScoringNotice.Dispatch(PostgresScoringNotice.FormatWanted(7, 90, 3), sink);
        var ignored = new[] { null, "", "7:12", "ranking:7", "ranking:7:12:1", "ranking:-7:12", "wanted:7:90", "wanted:7:90:3:1", "wanted:7:x:3", "other:7:1" }
            .Select(payload => PostgresScoringNotice.Dispatch(payload, sink))
            .ToList();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That((ranking, wanted), Is.EqualTo((true, true)));
            Assert.That(sink.Drain(), Is.EqualTo(new[] { "ranking 7:12", "wanted 7:90:3" }));
            Assert.That(ignored, Has.All.False, "a payload that is not one of ours calls nothing");
            Assert.That(PostgresScoringNotice.FormatWanted(long.MaxValue, long.MaxValue, long.MaxValue).Length, Is.LessThan(100), "far below PostgreSQL's 8000 bytes");
        });
    }
}
