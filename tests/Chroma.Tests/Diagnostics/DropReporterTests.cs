using Chroma.Batching;
using Chroma.Diagnostics;
using Chroma.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Chroma.Tests.Diagnostics;

/// <summary>
/// The periodic drop warning says how many records found the queue full and how many were invalid, per interval:
/// before, it said "the queue was full or the records were invalid", and a reader had to diff the statistics.
/// </summary>
[TestFixture]
public sealed class DropReporterTests
{
    [Test]
    public void Report_QueueFullAndInvalidDrops_SplitPerInterval()
    {
        // Arrange
        var counters = new ClientCounters();
        var logs = new RecordingLoggerProvider();
        var time = new FakeTimeProvider();
        using var reporter = new DropReporter(counters, logs.CreateLogger("Chroma"), TimeSpan.FromSeconds(10), time);
        for (var i = 0; i < 3; i++)
        {
            counters.AddDropped();
        }

        counters.AddDroppedInvalid();
        counters.AddDroppedInvalid();

        // Act: one interval with both kinds, then one with queue-full drops only, then one with none.
        time.Advance(TimeSpan.FromSeconds(10));
        counters.AddDropped();
        time.Advance(TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(10));

        // Assert
        var warnings = logs.Entries.Where(e => e.Id.Id == 2).Select(e => e.Message).ToList();
        Assert.That(warnings, Is.EqualTo(new[]
        {
            "Chroma dropped 5 records in the last 10 s (5 in all): 3 found the queue full, 2 were invalid (each kind of invalid record is logged once as a capture problem).",
            "Chroma dropped 1 records in the last 10 s (6 in all): 1 found the queue full, 0 were invalid (each kind of invalid record is logged once as a capture problem).",
        }));
    }
}
