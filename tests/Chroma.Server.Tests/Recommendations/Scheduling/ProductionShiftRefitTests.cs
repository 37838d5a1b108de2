using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Storage;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

/// <summary>When a pass fits and refits the production-shift classifier, and what that rescores.</summary>
public sealed class ProductionShiftRefitTests
{
    private ScoringFixture _fixture = null!;

    [SetUp]
    public void SetUp() => _fixture = new ScoringFixture();

    [TearDown]
    public void TearDown() => _fixture.Dispose();

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_ProductionReachesTheMinimum_FitsTheClassifierAndRescoresEveryRecordBeforeAnnouncingCoverage(CancellationToken cancellationToken)
    {
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(ScoringFixture.ShiftMinimumRows - 10, seed: 2)]);
        var pass = _fixture.CreatePass();
        var state = new SetScoringState(_fixture.StoredSet);
        await pass.RunAsync(state, cancellationToken);
        var versionBefore = state.TrainingVersion;
        await _fixture.IngestAsync(ScoringFixture.InDistribution(20, seed: 3));
        (int Count, bool Stale, string? Version)? announced = null;

        var second = await pass.RunAsync(state, _ => announced = (state.Published.Entries.Count, state.Published.Stale, state.Published.TrainingVersion), cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(ModelVersion.TryReadShift(versionBefore, out _, out _), Is.False, "below the minimum there is no classifier");
            Assert.That(second.Refit, Is.True);
            Assert.That(second.Scored, Is.EqualTo(ScoringFixture.ShiftMinimumRows + 10), "every record is rescored under the new classifier");
            Assert.That(ModelVersion.TryReadShift(state.TrainingVersion, out _, out var count), Is.True);
            Assert.That(count, Is.EqualTo(ScoringFixture.ShiftMinimumRows + 10));
            Assert.That(ModelVersion.SameTraining(state.TrainingVersion, versionBefore), Is.True);
            Assert.That(state.Published.Entries.Select(e => e.Record.TrainingVersion), Is.All.EqualTo(state.TrainingVersion));
            Assert.That(state.Published.Entries.Select(e => e.Record.Signal(SignalKind.ProductionShift)), Is.All.Not.Null, "production around one class is told apart from training");
            Assert.That(announced, Is.EqualTo((ScoringFixture.ShiftMinimumRows + 10, false, state.TrainingVersion)), "coverage is announced only once the rescored ranking is published");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_ProductionGrows_RefitsOnlyFromTwofold(CancellationToken cancellationToken)
    {
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(60, seed: 2)]);
        var pass = _fixture.CreatePass();
        var state = new SetScoringState(_fixture.StoredSet);
        await pass.RunAsync(state, cancellationToken);
        var fitted = state.TrainingVersion;
        await _fixture.IngestAsync(ScoringFixture.InDistribution(59, seed: 3));

        var below = await pass.RunAsync(state, cancellationToken);
        var afterBelow = state.TrainingVersion;
        await _fixture.IngestAsync(ScoringFixture.InDistribution(1, seed: 4));
        var twofold = await pass.RunAsync(state, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That((below.Refit, below.Scored), Is.EqualTo((false, 59)), "119 rows: under twice the 60 fitted on, only the new records are scored");
            Assert.That(afterBelow, Is.EqualTo(fitted));
            Assert.That((twofold.Refit, twofold.Scored), Is.EqualTo((true, 120)), "120 rows: refitted, every record rescored");
            Assert.That(ModelVersion.TryReadShift(state.TrainingVersion, out _, out var count) ? count : -1, Is.EqualTo(120));
            Assert.That(state.Published.Entries.Select(e => e.Record.TrainingVersion), Is.All.EqualTo(state.TrainingVersion));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_ShiftBeginsAfterAFitThatFoundNone_TriedAgainAtATenthMoreAndKeptOnlyOnceItJoins(CancellationToken cancellationToken)
    {
        // Arrange: production drawn like training, so the classifier fitted on it is left out (probe P: a stream that
        // began without shift kept it out until production doubled, whatever came next).
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.LikeTraining(perClass: 34, seed: 7)]);
        var pass = _fixture.CreatePass();
        var state = new SetScoringState(_fixture.StoredSet);
        await pass.RunAsync(state, cancellationToken);
        var first = state.Model!.ProductionShift!;
        var fittedVersion = state.TrainingVersion;

        // Act: 12 more like training (114 rows, over 1.1 times 102), then 60 far from every class (174, under twofold).
        await _fixture.IngestAsync(ScoringFixture.LikeTraining(perClass: 4, seed: 8));
        var tried = await pass.RunAsync(state, cancellationToken);
        var afterTry = (state.TrainingVersion, state.Model!.ProductionShift, state.ProductionShiftTriedAt);
        var shifted = ScoringFixture.OutOfDistribution(60, seed: 9);
        await _fixture.IngestAsync(shifted);
        var joined = await pass.RunAsync(state, cancellationToken);

        // Assert
        var shiftedIds = shifted.Select(r => r.Id).ToHashSet();
        Assert.Multiple(() =>
        {
            Assert.That((first.ProductionCount, first.Joins), Is.EqualTo((102L, false)), "a stream like training: the signal is left out");
            Assert.That((tried.Refit, tried.Scored), Is.EqualTo((false, 12)), "the try found no shift either: not kept, nothing rescored");
            Assert.That(afterTry, Is.EqualTo((fittedVersion, first, 114L)));
            Assert.That((joined.Refit, joined.Scored), Is.EqualTo((true, 174)), "the try after the shift began joins: kept, every record rescored");
            Assert.That((state.Model!.ProductionShift!.ProductionCount, state.Model.ProductionShift.Joins), Is.EqualTo((174L, true)));
            Assert.That(state.ProductionShiftTriedAt, Is.Zero);
            Assert.That(
                state.Published.Entries.Where(e => shiftedIds.Contains(e.Record.Id)).Select(e => e.Record.Signal(SignalKind.ProductionShift)),
                Is.All.Not.Null,
                "the shifted records get the signal");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_TryWhoseNewRowsShowNoShift_ReadsOnlyTheRowsSinceTheFitNotEveryProductionRow(CancellationToken cancellationToken)
    {
        // Arrange: a fit on 102 rows like training (left out), then 12 more like them: a try is due.
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.LikeTraining(perClass: 34, seed: 7)]);
        var state = new SetScoringState(_fixture.StoredSet);
        await _fixture.CreatePass().RunAsync(state, cancellationToken);
        await _fixture.IngestAsync(ScoringFixture.LikeTraining(perClass: 4, seed: 8));
        var reads = CountedScorableReads.Wrap(_fixture.Storage.Scores);

        // Act
        var tried = await _fixture.CreatePass((IRecordScoreStore)reads.Proxy).RunAsync(state, cancellationToken);

        // Assert: the pass's own read of the 12 and the check's; at a million rows a full read is many seconds.
        Assert.Multiple(() =>
        {
            Assert.That((tried.Refit, tried.Scored), Is.EqualTo((false, 12)));
            Assert.That(state.ProductionShiftTriedAt, Is.EqualTo(114), "the try was made");
            Assert.That(reads.Rows, Is.EqualTo(24), "the 12 new rows, read by the pass and by the check; not the 102 before them");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_ReferenceRowsLoggedLate_RefitsAgainstThemOnceTheyReachTheMinimum(CancellationToken cancellationToken)
    {
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(300, seed: 2)]);
        var pass = _fixture.CreatePass();
        var state = new SetScoringState(_fixture.StoredSet);
        await pass.RunAsync(state, cancellationToken);
        var againstTraining = state.Model!.ProductionShift!;
        await _fixture.IngestAsync(ScoringFixture.Reference(ProductionShift.MinimumReferenceRows - 50, seed: 3));
        var below = await pass.RunAsync(state, cancellationToken);
        await _fixture.IngestAsync(ScoringFixture.Reference(60, seed: 4));
        var reached = await pass.RunAsync(state, cancellationToken);
        var againstReference = state.Model!.ProductionShift!;
        await _fixture.IngestAsync(ScoringFixture.Reference(10, seed: 5));
        var more = await pass.RunAsync(state, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(againstTraining.AgainstReference, Is.False);
            Assert.That((below.Refit, below.Scored), Is.EqualTo((false, 150)), "150 reference rows: under the minimum, and production has not doubled");
            Assert.That((reached.Refit, reached.Scored), Is.EqualTo((true, 510)), "210 reference rows: refitted against them, every record rescored");
            Assert.That(againstReference.AgainstReference, Is.True);
            Assert.That((againstReference.Classifier.TrainingRows, againstReference.Classifier.ProductionRows), Is.EqualTo((210, 300)), "reference rows are not production");
            Assert.That((more.Refit, more.Scored), Is.EqualTo((false, 10)), "220 reference rows: not twice the 210 fitted on");
            Assert.That(state.Model!.ProductionShift, Is.SameAs(againstReference));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_MoreReferenceRowsThanProduction_NewProductionDoesNotRefitUntilProductionItselfGrows(CancellationToken cancellationToken)
    {
        // Arrange: 300 production rows, then 700 reference rows (more than production): fitted against them once.
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(300, seed: 2)]);
        var pass = _fixture.CreatePass();
        var state = new SetScoringState(_fixture.StoredSet);
        await pass.RunAsync(state, cancellationToken);
        await _fixture.IngestAsync(ScoringFixture.Reference(700, seed: 3));
        var reference = await pass.RunAsync(state, cancellationToken);

        // Act: 10 more production rows, twice (310, 320: far from twice the 300 fitted on, nor a tenth more).
        await _fixture.IngestAsync(ScoringFixture.InDistribution(10, seed: 4));
        var first = await pass.RunAsync(state, cancellationToken);
        await _fixture.IngestAsync(ScoringFixture.InDistribution(10, seed: 5));
        var second = await pass.RunAsync(state, cancellationToken);

        // Assert: the reference rows are not production; counted as such, every pass refitted and rescored all.
        Assert.Multiple(() =>
        {
            Assert.That(reference.Refit, Is.True, "700 reference rows: refitted against them");
            Assert.That((first.Refit, first.Scored), Is.EqualTo((false, 10)));
            Assert.That((second.Refit, second.Scored), Is.EqualTo((false, 10)));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_AfterStoreReopened_FitsTheSameClassifierAgainWithoutRescoring(CancellationToken cancellationToken)
    {
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(70, seed: 2), .. ScoringFixture.OutOfDistribution(5, seed: 4)]);
        var before = new SetScoringState(_fixture.StoredSet);
        await _fixture.CreatePass().RunAsync(before, cancellationToken);
        _fixture.Storage.Reopen();
        var after = new SetScoringState(_fixture.StoredSet);
        await _fixture.CreatePass().RunAsync(after, cancellationToken);
        var restoredSignals = after.Published.Entries.Select(e => e.Record.Signals).ToArray();
        await _fixture.IngestAsync(ScoringFixture.InDistribution(3, seed: 5));

        var next = await _fixture.CreatePass().RunAsync(after, cancellationToken);

        var probes = Data.SyntheticEmbeddings.Around(Data.SyntheticEmbeddings.Axis(ScoringFixture.Dimension, 1, 6), 10, 2, seed: 6);
        double[] Scores(SetScoringState s) =>
            [.. Enumerable.Range(0, 10).SelectMany(i => Enumerable.Range(0, ProductionShiftClassifier.Folds)
                .Select(f => s.Model!.ProductionShift!.Classifier.Score(probes.AsSpan(i * ScoringFixture.Dimension, ScoringFixture.Dimension), null, f)))];
        Assert.Multiple(() =>
        {
            Assert.That(after.TrainingVersion, Is.EqualTo(before.TrainingVersion));
            Assert.That(restoredSignals, Is.EqualTo(before.Published.Entries.Select(e => e.Record.Signals)), "the stored production-shift signals read back as they were scored");
            Assert.That(restoredSignals.Select(s => s.Any(x => x.Kind == SignalKind.ProductionShift)), Is.All.True);
            Assert.That((next.Refit, next.Scored), Is.EqualTo((false, 3)), "the restored scores stay current; only the new records are scored");
            Assert.That(Scores(after), Is.EqualTo(Scores(before)), "the classifier fitted again after the start is the one the stored scores came from");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_RecordsDeletedThenStoreReopened_KeepsTheStoredScoresCurrentWithoutRescoring(CancellationToken cancellationToken)
    {
        // Arrange: scored with a classifier; then production records are deleted (the last one scored among them), and
        // the server restarts (or another replica takes the set over).
        var production = ScoringFixture.InDistribution(70, seed: 2);
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. production]);
        var before = new SetScoringState(_fixture.StoredSet);
        await _fixture.CreatePass().RunAsync(before, cancellationToken);
        await _fixture.Storage.Store.DeleteAsync(_fixture.StoredSet, [production[3].Id, production[10].Id, production[^1].Id], cancellationToken);
        _fixture.Storage.Reopen();
        var after = new SetScoringState(_fixture.StoredSet);
        await _fixture.CreatePass().RunAsync(after, cancellationToken);
        await _fixture.IngestAsync(ScoringFixture.InDistribution(3, seed: 5));

        // Act
        var next = await _fixture.CreatePass().RunAsync(after, cancellationToken);

        // Assert: before, the classifier fitted again on the rows left had a new version (a new count and highest
        // sequence), and every record was rescored: minutes at a million records after each restart or takeover.
        Assert.Multiple(() =>
        {
            Assert.That(ModelVersion.TryReadShift(before.TrainingVersion, out _, out _), Is.True, "scored with a classifier");
            Assert.That(after.TrainingVersion, Is.EqualTo(before.TrainingVersion), "the stored scores stay current");
            Assert.That((next.Refit, next.Scored), Is.EqualTo((false, 3)), "only the new records are scored");
            Assert.That(after.Published.Entries, Has.Count.EqualTo(70 - 3 + 3));
            Assert.That(after.Published.Entries.Select(e => e.Record.Signal(SignalKind.ProductionShift)), Is.All.Not.Null);
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunAsync_ScoresStoredUnderThePreviousScheme_ServedStaleThenRescored(CancellationToken cancellationToken)
    {
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(12, seed: 2)]);
        var state = new SetScoringState(_fixture.StoredSet);
        await _fixture.CreatePass().RunAsync(state, cancellationToken);
        var current = state.TrainingVersion!;
        var previous = current.Replace("-" + TrainingFingerprint.ScoringScheme, "-m3", StringComparison.Ordinal);
        var stored = _fixture.Storage.Scores.ReadScores(_fixture.StoredSet);
        await _fixture.Storage.Scores.SaveScoresAsync(
            _fixture.StoredSet, previous, [.. stored.Select(s => new RecordScoreRow(s.Record.Sequence, 0, s.SignalsJson, "[]", s.MeasurementJson))], replaceExisting: true, lease: null, cancellationToken);
        _fixture.Storage.Reopen();
        var restarted = new SetScoringState(_fixture.StoredSet);
        var pass = _fixture.CreatePass();

        await pass.RestoreAsync(restarted, cancellationToken);
        var servedStale = restarted.Published.Stale;
        var result = await pass.RunAsync(restarted, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(previous, Is.Not.EqualTo(current));
            Assert.That(servedStale, Is.True);
            Assert.That((result.Refit, result.Scored), Is.EqualTo((true, 12)));
            Assert.That(restarted.Published.Entries.Select(e => e.Record.TrainingVersion), Is.All.EqualTo(current));
        });
    }

    /// <summary>Forwards every call to the real score store and counts the rows <see cref="IRecordScoreStore.ReadScorable"/> returned.</summary>
    public class CountedScorableReads : System.Reflection.DispatchProxy
    {
        private IRecordScoreStore _inner = null!;
        private long _rows;

        /// <summary>Gets the store to hand to the pass.</summary>
        public object Proxy { get; private set; } = null!;

        /// <summary>Gets how many rows the scorable reads returned.</summary>
        public long Rows => Interlocked.Read(ref _rows);

        internal static CountedScorableReads Wrap(IRecordScoreStore inner)
        {
            var proxy = Create<IRecordScoreStore, CountedScorableReads>();
            var counted = (CountedScorableReads)(object)proxy;
            counted._inner = inner;
            counted.Proxy = proxy;
            return counted;
        }

        /// <inheritdoc />
        protected override object? Invoke(System.Reflection.MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            try
            {
                var result = targetMethod.Invoke(_inner, args);
                if (targetMethod.Name == nameof(IRecordScoreStore.ReadScorable) && result is System.Collections.ICollection rows)
                {
                    Interlocked.Add(ref _rows, rows.Count);
                }

                return result;
            }
            catch (System.Reflection.TargetInvocationException ex) when (ex.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex.InnerException);
                throw;
            }
        }
    }
}
