using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

/// <summary>
/// A pass that publishes its chunks as it goes announces each one (probe U, U2): the rankings in use are then computed
/// again in the background after every chunk, not by the next request, which at a million records waited 1-3 s for it.
/// </summary>
public sealed class ChunkPublicationTests
{
    [Test, CancelAfter(60_000)]
    public async Task Pass_OverSeveralChunks_AnnouncesEachChunkAndTheEnd(CancellationToken cancellationToken)
    {
        // Arrange: chunks of 4 records; 10 production records make 3 chunks.
        using var fixture = new ScoringFixture();
        using var scheduler = new ScoringScheduler(
            fixture.Storage.Store, new ProcessLocalCoordination(), fixture.CreatePass(chunkRecords: 4), fixture.Options, fixture.Storage.Clock, NullLogger<ScoringScheduler>.Instance);
        fixture.Storage.Observers.Add(scheduler);
        var announced = new List<long>();
        var passed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        scheduler.RankingPublished += set =>
        {
            lock (announced)
            {
                announced.Add(scheduler.Scores(set).Revision);
            }
        };
        scheduler.PassCompleted += _ => passed.TrySetResult();
        await scheduler.StartAsync(cancellationToken);

        // Act
        await fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(10, seed: 2)]);
        fixture.Storage.Clock.Advance(fixture.Options.Debounce);
        await passed.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        await scheduler.StopAsync(CancellationToken.None);

        // Assert: after chunks 1 and 2 (new revisions each) and at the end of the pass.
        lock (announced)
        {
            Assert.That(announced, Has.Count.EqualTo(3));
            Assert.That(announced, Is.Ordered.Ascending.And.Unique);
        }
    }
}
