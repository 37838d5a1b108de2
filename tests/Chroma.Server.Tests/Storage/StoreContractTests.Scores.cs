using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Storage;

/// <summary>The score store's part of the contract: scores, fingerprints, scorable rows, drift, tombstones.</summary>
public abstract partial class StoreContractTests
{
    [Test, CancelAfter(60_000)]
    public async Task ReadTraining_RecordsWithAndWithoutProbabilities_ReturnsEachLabelledRowWithItsProbabilities()
    {
        // Arrange: the probabilities on training records calibrate the uncertainty signals, on either provider.
        var set = Records.Set();
        var withProbabilities = Records.Make([1, 0, 0, 0], "training", "a");
        var without = Records.Make([0, 1, 0, 0], "training", "b");
        without.Inference = null;
        var unlabelled = Records.Make([0, 0, 1, 0], "training", null);
        await _fixture.IngestAsync(set, withProbabilities, without, unlabelled);

        // Act
        var rows = _fixture.Scores.ReadTraining(_fixture.RequireSet(set));

        // Assert: unlabelled training rows cannot teach a class and are left out (but counted by the fingerprint).
        Assert.Multiple(() =>
        {
            Assert.That(rows.Labels, Is.EqualTo(new[] { "a", "b" }));
            Assert.That(rows.Embeddings, Is.EqualTo(new float[] { 1, 0, 0, 0, 0, 1, 0, 0 }));
            Assert.That(rows.Probabilities, Is.Not.Null);
            Assert.That(rows.Probabilities![0], Is.EqualTo(new[] { 0.25f, 0.75f }));
            Assert.That(rows.Probabilities[1], Is.Null);
            Assert.That(rows.Fingerprint.Count, Is.EqualTo(3));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task ReadTraining_RecordsWithAndWithoutPredictions_ReturnsTheLoggedClassElseTheLargestProbabilitysName()
    {
        // Arrange: a held-out training row's boundary signal is read against the model's prediction for it.
        var set = Records.Set();
        var logged = Records.Make([1, 0, 0, 0], "training", "a");
        var fromProbabilities = Records.Make([0, 1, 0, 0], "training", "a");
        fromProbabilities.Inference.PredictedClass = string.Empty;
        var byIndex = Records.Make([0, 0, 1, 0], "training", "a");
        byIndex.Inference.PredictedClass = string.Empty;
        byIndex.Inference.ClassNames.Clear();
        var without = Records.Make([0, 0, 0, 1], "training", "b");
        without.Inference = null;
        await _fixture.IngestAsync(set, logged, fromProbabilities, byIndex, without);

        // Act
        var rows = _fixture.Scores.ReadTraining(_fixture.RequireSet(set));

        // Assert: Records.Make logs predicted class "1", probabilities (0.25, 0.75) and class names (a, b).
        Assert.That(rows.PredictedClasses, Is.EqualTo(new[] { "1", "b", "1", null }));
    }

    [Test, CancelAfter(60_000)]
    public async Task ReadTraining_IncludingUnlabelled_ReturnsEveryLiveTrainingRowInOrderWithEmptyLabels()
    {
        // Arrange: the engine falls back to every training row, labels set aside, when fewer than two have labels.
        var set = Records.Set();
        var first = Records.Make([1, 0, 0, 0], "training", null);
        var labelled = Records.Make([0, 1, 0, 0], "training", "b");
        var deleted = Records.Make([0, 0, 1, 0], "training", null);
        var last = Records.Make([0, 0, 0, 1], "training", null);
        await _fixture.IngestAsync(set, first, labelled, deleted, last, Records.Make([1, 1, 0, 0], "production"));
        await _fixture.Store.DeleteAsync(_fixture.RequireSet(set), [deleted.Id]);

        // Act
        var rows = _fixture.Scores.ReadTraining(_fixture.RequireSet(set), includeUnlabelled: true);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(rows.Labels, Is.EqualTo(new[] { string.Empty, "b", string.Empty }));
            Assert.That(rows.Embeddings, Is.EqualTo(new float[] { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1 }));
            Assert.That(rows.Fingerprint.Count, Is.EqualTo(3));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task SaveScoresAsync_ThenDeleteOne_ReadScoresHasOnlyLiveScoredRecordsInOrder()
    {
        // Arrange: score the 4 production records (0, 5, 10, 15).
        await SeedAsync();
        var scorable = _fixture.Scores.ReadScorable(_set, 0, 100);
        var rows = scorable.Select((r, i) => new RecordScoreRow(r.Sequence, 1.0 / (i + 1), "{\"s\":1}", "[]", "{}")).ToList();

        // Act
        var saved = await _fixture.Scores.SaveScoresAsync(_set, "v1", rows, replaceExisting: false);
        await _fixture.Store.DeleteAsync(_set, [_records[5].Id]);
        var scores = _fixture.Scores.ReadScores(_set);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(scorable.Select(r => r.Id), Is.EqualTo(new[] { _records[0].Id, _records[5].Id, _records[10].Id, _records[15].Id }));
            Assert.That(saved, Is.EqualTo(4));
            Assert.That(scores.Select(s => s.Record.Id), Is.EqualTo(new[] { _records[0].Id, _records[10].Id, _records[15].Id }));
            Assert.That(scores.Select(s => s.TrainingVersion), Is.All.EqualTo("v1"));
            Assert.That(scores[0].ScoredUnixMs, Is.EqualTo(1_700_000_000_000));
            Assert.That(scores[0].Record.Probabilities, Is.EqualTo(new[] { 0.25f, 0.75f }));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task SaveScoresAsync_RecordDeletedBeforeSave_SkipsItAndReplaceDropsOlderScores()
    {
        // Arrange
        await SeedAsync();
        var scorable = _fixture.Scores.ReadScorable(_set, 0, 100);
        await _fixture.Scores.SaveScoresAsync(_set, "v1", [.. scorable.Select(r => new RecordScoreRow(r.Sequence, 0.5, "{}", "[]", "{}"))], false);
        await _fixture.Store.DeleteAsync(_set, [_records[0].Id]);

        // Act: a refit computed before the delete saves all four.
        var saved = await _fixture.Scores.SaveScoresAsync(
            _set, "v2", [.. scorable.Take(2).Select(r => new RecordScoreRow(r.Sequence, 0.9, "{}", "[]", "{}"))], replaceExisting: true);

        // Assert
        var scores = _fixture.Scores.ReadScores(_set);
        Assert.Multiple(() =>
        {
            Assert.That(saved, Is.EqualTo(1), "the deleted record gets no score");
            Assert.That(scores.Select(s => (s.Record.Id, s.TrainingVersion)), Is.EqualTo(new[] { (_records[5].Id, "v2") }));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task ReadTrainingFingerprint_InsertThenDelete_ChangesEachTimeAndMatchesReadTraining()
    {
        // Arrange
        await SeedAsync();
        var before = _fixture.Scores.ReadTrainingFingerprint(_set);

        // Act
        await _fixture.IngestAsync(Records.Set(), Records.Sequence(2, start: 21)); // 21 training, 22 training
        var afterInsert = _fixture.Scores.ReadTrainingFingerprint(_set);
        await _fixture.Store.DeleteAsync(_set, [_records[1].Id]);
        var afterDelete = _fixture.Scores.ReadTrainingFingerprint(_set);
        var training = _fixture.Scores.ReadTraining(_set);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(before.Count, Is.EqualTo(16));
            Assert.That(afterInsert.Count, Is.EqualTo(18));
            Assert.That(afterInsert.MaxSequence, Is.GreaterThan(before.MaxSequence));
            Assert.That(afterDelete.Count, Is.EqualTo(17));
            Assert.That(afterDelete.Version, Is.Not.EqualTo(afterInsert.Version));
            Assert.That(training.Fingerprint, Is.EqualTo(afterDelete));
            Assert.That(training.Labels, Has.Count.EqualTo(17));
            Assert.That(training.Embeddings, Has.Length.EqualTo(17 * 4));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task ReadRecentProduction_Seeded_NewestFirstWithHighestSequence()
    {
        // Arrange
        await SeedAsync();

        // Act
        var recent = _fixture.Scores.ReadRecentProduction(_set, 3);

        // Assert: production records are 0, 5, 10, 15 (embedding[0] = index); the newest three.
        Assert.Multiple(() =>
        {
            Assert.That(recent.Count, Is.EqualTo(3));
            Assert.That(new[] { recent.Embeddings[0], recent.Embeddings[4], recent.Embeddings[8] }, Is.EqualTo(new[] { 15f, 10f, 5f }));
            Assert.That(recent.ThroughSequence, Is.EqualTo(_fixture.Store.GetRecordsByIds(_set, [_records[15].Id], false)[0].Sequence));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task SaveDriftAsync_MoreThanKept_ReadsNewestOldestFirst()
    {
        // Arrange
        await SeedAsync();

        // Act
        for (var i = 1; i <= 5; i++)
        {
            await _fixture.Scores.SaveDriftAsync(_set, new DriftPoint(1_000 * i, 0.1 * i, 0.5, 16, 4, i), keep: 3);
        }

        var history = _fixture.Scores.ReadDriftHistory(_set, 10);

        // Assert
        Assert.That(history.Select(p => p.ComputedUnixMs), Is.EqualTo(new long[] { 3_000, 4_000, 5_000 }));
    }

    [Test, CancelAfter(60_000)]
    public async Task SaveDriftAsync_WithSpacing_TheNewestIsReplacedUntilItLiesTheSpacingAfterTheOneBefore()
    {
        // Arrange: a measurement at 0, 10, 20, 70, 80 and 140 s, history points a minute apart.
        await SeedAsync();
        var spacing = TimeSpan.FromMinutes(1);

        // Act
        var kept = new List<long[]>();
        foreach (var seconds in new long[] { 0, 10, 20, 70, 80, 140 })
        {
            await _fixture.Scores.SaveDriftAsync(_set, new DriftPoint(seconds * 1_000, seconds, 0.5, 16, 4, seconds), keep: 100, spacing);
            kept.Add(_fixture.Scores.ReadDriftHistory(_set, 100).Select(p => p.ComputedUnixMs / 1_000).ToArray());
        }

        // Assert: the newest point is always the latest measurement; those before it lie at least a minute apart.
        Assert.That(kept, Is.EqualTo(new[]
        {
            new long[] { 0 },
            [0, 10],
            [0, 20],
            [0, 70],
            [0, 70, 80],
            [0, 70, 140],
        }));
    }

    [Test, CancelAfter(60_000)]
    public async Task SelectSequencesAndReadDeletedSequences_AfterDelete_AgreeWithTheStore()
    {
        // Arrange
        await SeedAsync();
        var even = new RecordSelection(null, Even);
        var deletedSequence = _fixture.Store.GetRecordsByIds(_set, [_records[2].Id], false)[0].Sequence;

        // Act
        await _fixture.Store.DeleteAsync(_set, [_records[2].Id]);
        var selected = _fixture.Scores.SelectSequences(_set, even);
        var page = _fixture.Store.GetRecords(_set, new RecordQuery(even, 0, 100, false));
        var tombstones = _fixture.Store.ReadDeletedSequences(_set, long.MaxValue);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(selected, Is.EquivalentTo(page.Records.Select(r => r.Sequence)));
            Assert.That(selected, Has.Count.EqualTo(9));
            Assert.That(tombstones, Is.EqualTo(new[] { deletedSequence }));
            Assert.That(_fixture.Store.ReadDeletedSequences(_set, deletedSequence - 1), Is.Empty);
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task IngestAsync_AfterDeletingTheLast_NewRecordsGetLargerSequences()
    {
        // Arrange: a page token holds a sequence, so a sequence is never given twice.
        await SeedAsync();
        var last = _fixture.Store.GetRecordsByIds(_set, [_records[19].Id], false)[0].Sequence;
        await _fixture.Store.DeleteAsync(_set, [_records[19].Id]);

        // Act
        await _fixture.IngestAsync(Records.Set(), Records.Sequence(1, start: 40));
        var page = _fixture.Store.GetRecords(_set, new RecordQuery(RecordSelection.All, last, 10, false));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(page.Records, Has.Count.EqualTo(1));
            Assert.That(page.Records[0].Sequence, Is.GreaterThan(last));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task IngestAsync_TwoSets_EachListedWithItsOwnCounts()
    {
        // Arrange
        var other = Records.Set(dimension: 8, model: "other");

        // Act
        await _fixture.IngestAsync(Records.Set(), Records.Sequence(3));
        await _fixture.IngestAsync(other, Records.Sequence(2, dimension: 8));
        var sets = _fixture.Store.ListSets();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(sets.Select(s => s.Set.SetId), Is.EqualTo(new[] { "model/1/fc", "other/1/fc" }));
            Assert.That(sets.Select(s => s.TotalRecords), Is.EqualTo(new long[] { 3, 2 }));
            Assert.That(sets[1].Set.Dimension, Is.EqualTo(8));
            Assert.That(_fixture.Store.FindSet("other/1/fc")?.Dimension, Is.EqualTo(8));
            Assert.That(_fixture.Store.FindSet("none/1/fc"), Is.Null);
        });
    }
}
