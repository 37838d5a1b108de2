using System.Text.Json;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

public sealed class SetScoringPassTests
{
    private ScoringFixture _fixture = null!;

    [SetUp]
    public void SetUp() => _fixture = new ScoringFixture();

    [TearDown]
    public void TearDown() => _fixture.Dispose();

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_SecondPassAfterNewProduction_ScoresOnlyTheNewRecords(CancellationToken cancellationToken)
    {
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(20, seed: 2)]);
        var pass = _fixture.CreatePass();
        var state = new SetScoringState(_fixture.StoredSet);
        var first = await pass.RunAsync(state, cancellationToken);
        await _fixture.IngestAsync(ScoringFixture.InDistribution(5, seed: 3));

        var second = await pass.RunAsync(state, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(first.Scored, Is.EqualTo(20));
            Assert.That(first.Refit, Is.True, "the first pass fits the model");
            Assert.That(second.Scored, Is.EqualTo(5));
            Assert.That(second.Refit, Is.False);
            Assert.That(second.Total, Is.EqualTo(25));
            Assert.That(state.Published.Entries, Has.Count.EqualTo(25));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_PassScoredAndMeasuredDrift_PublishesNoRevisionAfterTheScores(CancellationToken cancellationToken)
    {
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(20, seed: 2)]);
        var pass = _fixture.CreatePass();
        var state = new SetScoringState(_fixture.StoredSet);
        long revisionWhenAnnounced = -1;

        var result = await pass.RunAsync(state, _ => revisionWhenAnnounced = state.Published.Revision, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(result.Scored, Is.EqualTo(20));
            Assert.That(result.Drift, Is.Not.Null, "drift was measured after the scores were published");
            Assert.That(revisionWhenAnnounced, Is.GreaterThan(0));
            Assert.That(state.Published.Revision, Is.EqualTo(revisionWhenAnnounced), "an unchanged ranking keeps its revision, so cached rankings stay valid");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_NothingNewSinceThePreviousPass_KeepsTheRevision(CancellationToken cancellationToken)
    {
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(20, seed: 2)]);
        var pass = _fixture.CreatePass();
        var state = new SetScoringState(_fixture.StoredSet);
        await pass.RunAsync(state, cancellationToken);
        var revision = state.Published.Revision;

        var empty = await pass.RunAsync(state, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(empty.Scored, Is.Zero);
            Assert.That(state.Published.Revision, Is.EqualTo(revision), "an unchanged ranking keeps its revision, so cached rankings stay valid");
            Assert.That(state.Published.Entries, Has.Count.EqualTo(20));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_NewRecordsAfterDeletions_PublishesEntriesInSequenceOrder(CancellationToken cancellationToken)
    {
        // Deleted entries free dictionary slots that later records reuse, so the dictionary's order is no longer the
        // sequence order: the published ranking must still be.
        var production = ScoringFixture.InDistribution(20, seed: 2);
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. production]);
        var pass = _fixture.CreatePass();
        var state = new SetScoringState(_fixture.StoredSet);
        await pass.RunAsync(state, cancellationToken);
        _fixture.Storage.Observers.Add(new ChangeObserver(deleted: (_, sequences) => state.OnDeleted(sequences)));
        await _fixture.Storage.Store.DeleteAsync(_fixture.StoredSet, [production[2].Id.ToLowerInvariant(), production[7].Id.ToLowerInvariant()], cancellationToken);
        await _fixture.IngestAsync(ScoringFixture.InDistribution(5, seed: 3));

        await pass.RunAsync(state, cancellationToken);

        var sequences = state.Published.Entries.Select(e => e.Sequence).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(sequences, Has.Length.EqualTo(23));
            Assert.That(sequences, Is.Ordered.Ascending);
            Assert.That(sequences, Is.Unique);
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_TrainingRecordAdded_RefitsAndRescoresEveryRecord(CancellationToken cancellationToken)
    {
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(20, seed: 2)]);
        var pass = _fixture.CreatePass();
        var state = new SetScoringState(_fixture.StoredSet);
        await pass.RunAsync(state, cancellationToken);
        var versionBefore = state.TrainingVersion;
        await _fixture.IngestAsync(ScoringFixture.Training(perClass: 1, seed: 9));

        var second = await pass.RunAsync(state, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(second.Refit, Is.True);
            Assert.That(second.Scored, Is.EqualTo(20));
            Assert.That(state.TrainingVersion, Is.Not.EqualTo(versionBefore));
            Assert.That(state.Published.Entries.Select(e => e.Record.TrainingVersion), Is.All.EqualTo(state.TrainingVersion));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_TrainingRecordDeleted_Refits(CancellationToken cancellationToken)
    {
        var training = ScoringFixture.Training();
        await _fixture.IngestAsync([.. training, .. ScoringFixture.InDistribution(10, seed: 2)]);
        var pass = _fixture.CreatePass();
        var state = new SetScoringState(_fixture.StoredSet);
        await pass.RunAsync(state, cancellationToken);
        _fixture.Storage.Observers.Add(new ChangeObserver(deleted: (_, sequences) => state.OnDeleted(sequences)));
        await _fixture.Storage.Store.DeleteAsync(_fixture.StoredSet, [training[3].Id.ToLowerInvariant()], cancellationToken);

        var second = await pass.RunAsync(state, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(second.Refit, Is.True);
            Assert.That(second.Scored, Is.EqualTo(10));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_ProductionRecordDeleted_DropsItsScoreInMemoryAndOnDisk(CancellationToken cancellationToken)
    {
        var production = ScoringFixture.InDistribution(10, seed: 2);
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. production]);
        var pass = _fixture.CreatePass();
        var state = new SetScoringState(_fixture.StoredSet);
        await pass.RunAsync(state, cancellationToken);
        var deletedId = production[4].Id.ToLowerInvariant();
        _fixture.Storage.Observers.Add(new ChangeObserver(deleted: (_, sequences) => state.OnDeleted(sequences)));
        await _fixture.Storage.Store.DeleteAsync(_fixture.StoredSet, [deletedId], cancellationToken);

        var second = await pass.RunAsync(state, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(second.Refit, Is.False);
            Assert.That(state.Published.Entries.Select(e => e.Record.Id), Has.No.Member(deletedId));
            Assert.That(_fixture.Storage.Scores.ReadScores(_fixture.StoredSet).Select(s => s.Record.Id), Has.No.Member(deletedId));
            Assert.That(state.Published.Entries, Has.Count.EqualTo(9));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_AfterStoreReopened_RestoresStoredScoresWithoutRescoring(CancellationToken cancellationToken)
    {
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(15, seed: 2), .. ScoringFixture.OutOfDistribution(3, seed: 4)]);
        var before = new SetScoringState(_fixture.StoredSet);
        await _fixture.CreatePass().RunAsync(before, cancellationToken);
        _fixture.Storage.Reopen();
        var after = new SetScoringState(_fixture.StoredSet);

        var result = await _fixture.CreatePass().RunAsync(after, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(result.Scored, Is.Zero, "nothing new: the stored scores are read back, not recomputed");
            Assert.That(result.Refit, Is.False);
            Assert.That(after.Published.Entries, Has.Count.EqualTo(18));
            Assert.That(after.Published.Entries.Select(e => e.Record.Signals), Is.EqualTo(before.Published.Entries.Select(e => e.Record.Signals)));
            Assert.That(
                after.Published.Entries.Select(e => Chroma.Server.Recommendations.ReasonWriter.Write(e.Record, Chroma.Server.Recommendations.RecommendationStrategy.Balanced)),
                Is.EqualTo(before.Published.Entries.Select(e => Chroma.Server.Recommendations.ReasonWriter.Write(e.Record, Chroma.Server.Recommendations.RecommendationStrategy.Balanced))));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RestoreAsync_AStoredRowNamingAnUnknownSignal_FailsSayingSoAndTheNextPassRescoresEveryRecord(CancellationToken cancellationToken)
    {
        // Arrange: a scored set, one stored row damaged while the server was stopped, then a restart.
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(10, seed: 2)]);
        await _fixture.CreatePass().RunAsync(new SetScoringState(_fixture.StoredSet), cancellationToken);
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_fixture.Storage.Directory.Path, "chroma.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                UPDATE record_scores SET signals = '[{"signal":"gravity","value":1,"percentile":0.5,"p":0.5}]'
                WHERE sequence = (SELECT MAX(sequence) FROM record_scores);
                """;
            Assert.That(command.ExecuteNonQuery(), Is.EqualTo(1));
        }

        _fixture.Storage.Reopen();
        var after = new SetScoringState(_fixture.StoredSet);
        var pass = _fixture.CreatePass();

        // Act: as the scheduler does, a failed read-back leaves the set to its next pass.
        var thrown = Assert.ThrowsAsync(Is.InstanceOf<JsonException>(), () => pass.RestoreAsync(after, cancellationToken));
        after.Restored = true;
        var result = await pass.RunAsync(after, cancellationToken);
        _fixture.Storage.Reopen();
        var again = new SetScoringState(_fixture.StoredSet);
        await _fixture.CreatePass().RestoreAsync(again, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(thrown!.Message, Does.Contain("unknown kind: gravity"));
            Assert.That(result.Scored, Is.EqualTo(10), "every record scored again");
            Assert.That(after.Published.Entries, Has.Count.EqualTo(10));
            Assert.That(again.Published.Entries, Has.Count.EqualTo(10), "the damaged row was written again and reads back");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RestoreAsync_TrainingChangedWhileStopped_ServesTheStoredRankingStaleUntilTheRefitPassEnds(CancellationToken cancellationToken)
    {
        // Arrange: a scored set, then more training stored while no pass runs, then a restart.
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(12, seed: 2)]);
        var before = new SetScoringState(_fixture.StoredSet);
        await _fixture.CreatePass().RunAsync(before, cancellationToken);
        await _fixture.IngestAsync(ScoringFixture.Training(perClass: 5, seed: 9));
        _fixture.Storage.Reopen();
        var after = new SetScoringState(_fixture.StoredSet);
        var pass = _fixture.CreatePass();

        // Act
        await pass.RestoreAsync(after, cancellationToken);
        var restored = after.Published;
        var result = await pass.RunAsync(after, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(restored.Stale, Is.True);
            Assert.That(restored.Entries.Select(e => e.Record.Id), Is.EqualTo(before.Published.Entries.Select(e => e.Record.Id)));
            Assert.That(restored.TrainingVersion, Is.EqualTo(before.Published.TrainingVersion));
            Assert.That(result.Refit, Is.True);
            Assert.That(after.Published.Stale, Is.False);
            Assert.That(after.Published.Entries, Has.Count.EqualTo(12));
            Assert.That(after.Published.TrainingVersion, Is.Not.EqualTo(before.Published.TrainingVersion));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Published_TrainingStoredAfterThePass_IsStaleWithTheSameEntriesUntilTheNextPass(CancellationToken cancellationToken)
    {
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(8, seed: 2)]);
        var pass = _fixture.CreatePass();
        var state = new SetScoringState(_fixture.StoredSet);
        await pass.RunAsync(state, cancellationToken);
        var fresh = state.Published;

        await _fixture.IngestAsync(ScoringFixture.Training(perClass: 2, seed: 5));
        state.OnTrainingChanged();
        var stale = state.Published;
        await pass.RunAsync(state, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(fresh.Stale, Is.False);
            Assert.That(stale.Stale, Is.True);
            Assert.That(stale.Entries, Is.SameAs(fresh.Entries));
            Assert.That(stale.Revision, Is.EqualTo(fresh.Revision), "same ranking: cached pages stay valid");
            Assert.That(state.Published.Stale, Is.False);
            Assert.That(state.Published.Entries, Has.Count.EqualTo(8));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_AfterReopenWithNewRecords_ScoresOnlyThoseUnderTheSameTrainingVersion(CancellationToken cancellationToken)
    {
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(15, seed: 2)]);
        var before = new SetScoringState(_fixture.StoredSet);
        await _fixture.CreatePass().RunAsync(before, cancellationToken);
        _fixture.Storage.Reopen();
        await _fixture.IngestAsync(ScoringFixture.OutOfDistribution(2, seed: 4));
        var after = new SetScoringState(_fixture.StoredSet);

        var result = await _fixture.CreatePass().RunAsync(after, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(result.Scored, Is.EqualTo(2));
            Assert.That(result.Refit, Is.False);
            Assert.That(after.TrainingVersion, Is.EqualTo(before.TrainingVersion));
            Assert.That(after.Published.Entries, Has.Count.EqualTo(17));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_OutOfDistributionRecords_ScoreAboveEveryInDistributionRecord(CancellationToken cancellationToken)
    {
        var outliers = ScoringFixture.OutOfDistribution(3, seed: 4);
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(30, seed: 2), .. outliers]);
        var state = new SetScoringState(_fixture.StoredSet);

        await _fixture.CreatePass().RunAsync(state, cancellationToken);

        var stored = _fixture.Storage.Scores.ReadScores(_fixture.StoredSet);
        var outlierIds = outliers.Select(o => o.Id.ToLowerInvariant()).ToHashSet();
        var lowestOutlier = state.Published.Entries.Where(e => outlierIds.Contains(e.Record.Id)).Min(e => Score(e));
        var highestInlier = state.Published.Entries.Where(e => !outlierIds.Contains(e.Record.Id)).Max(e => Score(e));
        Assert.Multiple(() =>
        {
            Assert.That(lowestOutlier, Is.GreaterThan(highestInlier));
            Assert.That(stored, Has.Count.EqualTo(33), "every scored record is stored");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_NewProduction_StoresADriftMeasurement(CancellationToken cancellationToken)
    {
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(30, seed: 2)]);
        var state = new SetScoringState(_fixture.StoredSet);

        var result = await _fixture.CreatePass().RunAsync(state, cancellationToken);

        var history = _fixture.Storage.Scores.ReadDriftHistory(_fixture.StoredSet, 10);
        Assert.Multiple(() =>
        {
            Assert.That(result.Drift, Is.Not.Null);
            Assert.That(history, Has.Count.EqualTo(1));
            Assert.That(history[0].Mmd2, Is.EqualTo(result.Drift!.Value.Mmd2));
            Assert.That(history[0].ProductionSample, Is.EqualTo(30));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_ScoresPublishedCallback_ComesWithEveryRecordPublishedAndBeforeDrift(CancellationToken cancellationToken)
    {
        // A request waiting for a fresh ranking is answered from this callback: it must not wait for drift as well.
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(30, seed: 2)]);
        var state = new SetScoringState(_fixture.StoredSet);
        int? publishedAtCallback = null;
        bool? staleAtCallback = null;
        int? driftPointsAtCallback = null;

        var result = await _fixture.CreatePass().RunAsync(
            state,
            _ =>
            {
                publishedAtCallback = state.Published.Entries.Count;
                staleAtCallback = state.Published.Stale;
                driftPointsAtCallback = _fixture.Storage.Scores.ReadDriftHistory(_fixture.StoredSet, 10).Count;
            },
            cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(publishedAtCallback, Is.EqualTo(30), "every record read is published when the callback runs");
            Assert.That(staleAtCallback, Is.False, "the refit's ranking is current by then");
            Assert.That(driftPointsAtCallback, Is.Zero, "drift is measured after the callback");
            Assert.That(result.Drift, Is.Not.Null, "and still measured in the same pass");
            Assert.That(_fixture.Storage.Scores.ReadDriftHistory(_fixture.StoredSet, 10), Has.Count.EqualTo(1));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_ScoresPublishedCallback_ReportsWhatWasStoredBeforeTheLastRead(CancellationToken cancellationToken)
    {
        // Arrange: the store's post-commit hook tells the state what is stored (here by hand, as the scheduler's hook does).
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(12, seed: 2)]);
        var state = new SetScoringState(_fixture.StoredSet);
        var stored = _fixture.Storage.Scores.ReadScorable(_fixture.StoredSet, 0, 100)[^1].Sequence;
        state.Coverage.Stored(stored);
        var covered = new List<long>();

        // Act
        await _fixture.CreatePass().RunAsync(state, covered.Add, cancellationToken);

        // Assert: every record through that sequence was read and is in the published ranking.
        Assert.That(covered, Is.EqualTo(new[] { stored }));
        Assert.That(state.Published.Entries.Max(e => e.Sequence), Is.EqualTo(stored));
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_NothingNew_DoesNotCallTheScoresPublishedCallback(CancellationToken cancellationToken)
    {
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(10, seed: 2)]);
        var state = new SetScoringState(_fixture.StoredSet);
        var pass = _fixture.CreatePass();
        await pass.RunAsync(state, cancellationToken);
        var calls = 0;

        var second = await pass.RunAsync(state, _ => calls++, cancellationToken);

        Assert.That((second.Scored, calls), Is.EqualTo((0, 0)));
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_OneTrainingRecord_PublishesAProblemNamingTheSet(CancellationToken cancellationToken)
    {
        await _fixture.IngestAsync([.. ScoringFixture.Training(perClass: 1).Take(1), .. ScoringFixture.InDistribution(3, seed: 2)]);
        var state = new SetScoringState(_fixture.StoredSet);

        var result = await _fixture.CreatePass().RunAsync(state, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(result.TrainingProblem, Does.Contain("scoring/1/fc"));
            Assert.That(state.Published.TrainingProblem, Is.EqualTo(result.TrainingProblem));
            Assert.That(state.Published.Entries, Is.Empty);
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_StaysUnscorableWhileRecordsArrive_SaysSoInTheLogOnceUntilTheProblemChanges(CancellationToken cancellationToken)
    {
        // Probe X, X5: the line came at every pass of a set that kept receiving production records.
        var logs = new Chroma.Server.Tests.Reliability.CapturingLoggerProvider();
        using var factory = new Microsoft.Extensions.Logging.LoggerFactory([logs]);
        var pass = _fixture.CreatePass(logger: factory.CreateLogger<SetScoringPass>());
        await _fixture.IngestAsync(ScoringFixture.InDistribution(3, seed: 2));
        var state = new SetScoringState(_fixture.StoredSet);

        await pass.RunAsync(state, cancellationToken);
        await _fixture.IngestAsync(ScoringFixture.InDistribution(3, seed: 3));
        await pass.RunAsync(state, cancellationToken);
        await _fixture.IngestAsync([.. ScoringFixture.Training(perClass: 1).Take(1)]);
        await pass.RunAsync(state, cancellationToken);
        await pass.RunAsync(state, cancellationToken);

        var told = logs.Entries.Where(e => e.Event.Id == 302).Select(e => e.Message).ToList();
        Assert.That(told, Has.Count.EqualTo(2), string.Join("\n", told));
        Assert.That(told[0], Does.Contain("has no training records"));
        Assert.That(told[1], Does.Contain("has 1 training records"));
    }

    private static double Score(ScoredEntry entry) =>
        Chroma.Server.Recommendations.SignalCombiner.Score(entry.Record.Signals, Chroma.Server.Recommendations.RecommendationStrategy.Balanced);
}
