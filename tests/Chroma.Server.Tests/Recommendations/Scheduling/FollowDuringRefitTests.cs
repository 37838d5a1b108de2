using Chroma.Server.Background;
using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Storage;
using Chroma.Server.Tests.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

/// <summary>
/// A replica that follows the scoring replica's stored ranking, read while a refit there has rewritten only part of the
/// rows (the follow a delete starts): it goes on serving the ranking it served, marked stale, as the scoring replica
/// does until its refit ends. Before (outside-in probe I, O1) it served a mix of both models' scores for that while.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class FollowDuringRefitTests : PostgresReplicaPairTest
{
    [Test, CancelAfter(60_000)]
    public async Task FollowAsync_RowsOfTwoVersionsStored_ServesTheRankingItServedStaleUntilOneVersionIsStored(CancellationToken cancellationToken)
    {
        // Arrange: A stores scores of every record under v1; B reads them whole.
        var set = await SeedAsync();
        var scorable = A.Scores.ReadScorable(set, 0, 100);
        var lease = (await A.Coordination.TryAcquireAsync(set, "a", Lease, cancellationToken))!;
        await A.Scores.SaveScoresAsync(set, "v1", Rows(scorable, 1.0), replaceExisting: false, lease, cancellationToken);
        using var limiter = new BackgroundWorkLimiter(1, "follow-test");
        var pass = new SetScoringPass(
            B.Scores, limiter, BruteForceNeighborSearch.Factory, new RecommendationOptions(), new DriftOptions(), Clock, NullLogger<SetScoringPass>.Instance);
        var state = new SetScoringState(set);
        await pass.ReloadAsync(state, cancellationToken);
        state.DeletesAppliedThroughStamp = 0;
        var servedBefore = state.Published;

        // Act: A's refit rewrites half the rows under v2; B follows; then the rest; B follows again.
        var half = scorable.Count / 2;
        await A.Scores.SaveScoresAsync(set, "v2", Rows(scorable.Take(half), 2.0), replaceExisting: false, lease, cancellationToken);
        await pass.FollowAsync(state, cancellationToken);
        var midRefit = state.Published;
        await A.Scores.SaveScoresAsync(set, "v2", Rows(scorable.Skip(half), 2.0), replaceExisting: false, lease, cancellationToken);
        await pass.FollowAsync(state, cancellationToken);
        var refitted = state.Published;

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(half, Is.GreaterThan(0));
            Assert.That(servedBefore.Entries.Select(e => e.TrainingVersion), Is.All.EqualTo("v1"), "B served v1 (stale: not this training's version)");
            Assert.That(midRefit.Entries, Is.SameAs(servedBefore.Entries), "mid-refit B serves the ranking it served");
            Assert.That((midRefit.Stale, midRefit.TrainingVersion), Is.EqualTo((true, "v1")));
            Assert.That(state.Entries.Values.Count(e => e.TrainingVersion == "v2"), Is.EqualTo(scorable.Count), "its entries kept up with the store meanwhile");
            Assert.That(refitted.Entries.Select(e => e.TrainingVersion), Is.All.EqualTo("v2"), "once one version is stored, B serves it");
            Assert.That(refitted.Entries, Has.Count.EqualTo(scorable.Count));
        });
    }

    // Rows as a pass writes them (a measurement and signals the read-back decodes).
    private static RecordScoreRow[] Rows(IEnumerable<ScorableRecord> records, double mahalanobis) =>
    [
        .. records.Select(r => ScoreCodec.ToRow(r.Sequence, new ScoredRecord(
            r.Id, "v", r.Embedding, r.PredictedClass, new EmbeddingMeasurement(mahalanobis, "a", new NeighborSignals(0.5, 0.1, 10, null, 0)), null,
            [new SignalScore(SignalKind.Mahalanobis, mahalanobis, 0.5, 0.5)]))),
    ];
}
