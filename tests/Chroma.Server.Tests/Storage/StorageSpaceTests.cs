using Chroma.Server.Storage;
using Chroma.Server.Tests.Indexing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Chroma.Server.Tests.Storage;

[TestFixture]
public sealed class StorageSpaceTests
{
    [Test]
    public void ReportWritten_AfterWritesWereRefusedForSpace_OneInformationLineSayingIngestResumed()
    {
        // Arrange
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero));
        var logger = new RecordingLogger<StorageSpace>();
        var space = new StorageSpace(time, logger);
        space.ReportWritten();
        space.ReportFull(4096);
        time.Advance(TimeSpan.FromSeconds(5));
        space.ReportFull(8192);
        time.Advance(TimeSpan.FromSeconds(85));

        // Act
        space.ReportWritten();
        space.ReportWritten();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(space.IsFull, Is.False);
            Assert.That(logger.Entries, Has.Count.EqualTo(1), "nothing while there was room, one line when it came back");
            Assert.That(logger.Entries[0].Level, Is.EqualTo(LogLevel.Information));
            Assert.That(logger.Entries[0].Message, Does.Contain("room again").And.Contain("since 2026-12-05 12:00:00Z").And.Contain("00:01:30").And.Contain("ingest resumed"));
        });
    }
}
