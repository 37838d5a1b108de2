using Chroma.Server.Labeling;
using Chroma.Server.Retention;
using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chroma.Server.Tests.Storage;

/// <summary>Retention on both providers: old records of the rule's dataset go through the normal delete path, in batches.</summary>
public abstract partial class StoreContractTests
{
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    [Test, CancelAfter(60_000)]
    public async Task RunOnceAsync_ProductionOlderThanMaxAge_DeletesOnlyThoseInBatchesThroughTheDeletePath(CancellationToken cancellationToken)
    {
        // Arrange: 7 production records 40 days old, 3 production 1 day old, 5 training 40 days old; scores for all production.
        var now = _fixture.Clock.GetUtcNow();
        var old = Aged(Records.Sequence(7, start: 100), "production", now - (40 * Day));
        var recent = Aged(Records.Sequence(3, start: 200), "production", now - Day);
        var training = Aged(Records.Sequence(5, start: 300), "training", now - (40 * Day));
        await _fixture.IngestAsync(Records.Set(), [.. old, .. recent, .. training]);
        var set = _fixture.RequireSet(Records.Set());
        var scorable = _fixture.Scores.ReadScorable(set, 0, 100);
        await _fixture.Scores.SaveScoresAsync(set, "v1", [.. scorable.Select(r => new RecordScoreRow(r.Sequence, 1, "[]", "[]", "{}"))], false, null, cancellationToken);
        var deletes = new List<int>();
        _fixture.Observers.Add(new ChangeObserver(deleted: (_, sequences) => deletes.Add(sequences.Count)));
        using var worker = Worker(new RetentionRule { Set = RetentionRule.EverySet, Dataset = "production", MaxAge = 30 * Day }, batchSize: 3);

        // Act
        var deleted = await worker.RunOnceAsync(cancellationToken);
        var again = await worker.RunOnceAsync(cancellationToken);

        // Assert
        var production = _fixture.Store.GetRecords(set, new RecordQuery(new RecordSelection("production", new Dictionary<string, string>()), 0, 100, false));
        var run = _fixture.Storage.Coordination.ReadRetentionRuns().Single();
        Assert.Multiple(() =>
        {
            Assert.That(deleted, Is.EqualTo(7));
            Assert.That(again, Is.Zero, "nothing left to delete");
            Assert.That(deletes, Is.EqualTo(new[] { 3, 3, 1 }), "bounded batches, each seen by the change observers");
            Assert.That(production.Records.Select(r => r.Record.Id), Is.EquivalentTo(recent.Select(r => r.Id.ToLowerInvariant())));
            Assert.That(_fixture.Store.CountRecords(set, new RecordSelection("training", new Dictionary<string, string>())), Is.EqualTo(5), "other datasets kept");
            Assert.That(_fixture.Scores.ReadScores(set).Select(s => s.Record.Id), Is.EquivalentTo(recent.Select(r => r.Id.ToLowerInvariant())), "scores went with the records");
            Assert.That(_fixture.Store.ReadDeletedSequences(set, long.MaxValue), Has.Count.EqualTo(7), "tombstones kept");
            Assert.That(run, Is.EqualTo(new RetentionRun(set.Key, "production", now.ToUnixTimeMilliseconds(), 0, 7)), "last run: 0 deleted, 7 in all");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunOnceAsync_LabeledRecordsPastTheAge_KeptWithTheirLabelsWhileTheOthersGo(CancellationToken cancellationToken)
    {
        // Arrange: 6 production records 40 days old; 2 labeled, 1 only dismissed (reviewed, no label).
        var now = _fixture.Clock.GetUtcNow();
        var old = Aged(Records.Sequence(6, start: 100), "production", now - (40 * Day));
        await _fixture.IngestAsync(Records.Set(), [.. old]);
        var set = _fixture.RequireSet(Records.Set());
        var stored = _fixture.Store.GetRecords(set, new RecordQuery(RecordSelection.All, 0, 100, false)).Records;
        using var ownReviews = _fixture.Storage.Reviews is null ? SqliteReviewStore.Open(_fixture.Directory.Path) : null;
        var reviews = _fixture.Storage.Reviews ?? ownReviews!;
        var at = now.ToUnixTimeMilliseconds();
        await reviews.SaveLabelsAsync(set.Key, [.. stored.Take(2).Select(r => new LabelWrite(r.Sequence, r.Record.Id, "7", null))], "ana", at, cancellationToken);
        await reviews.SaveStateAsync(set.Key, [(stored[2].Sequence, stored[2].Record.Id)], ReviewState.Dismissed, "ana", at, cancellationToken);
        using var worker = Worker(new RetentionRule { Set = RetentionRule.EverySet, Dataset = "production", MaxAge = 30 * Day }, batchSize: 1);

        // Act: batches of one, so a batch of labeled records alone cannot end the run early.
        var deleted = await worker.RunOnceAsync(cancellationToken);

        // Assert
        var left = _fixture.Store.GetRecords(set, new RecordQuery(RecordSelection.All, 0, 100, false)).Records;
        Assert.Multiple(() =>
        {
            Assert.That(deleted, Is.EqualTo(4), "the dismissed record and the 3 unreviewed ones");
            Assert.That(left.Select(r => r.Record.Id), Is.EquivalentTo(stored.Take(2).Select(r => r.Record.Id)), "a label is a person's work: kept");
            Assert.That(reviews.ReadLabeled(set.Key, 0, 10).Select(r => r.Label), Is.EqualTo(new[] { "7", "7" }));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunOnceAsync_RecordLabeledBetweenReadAndDelete_KeptWithItsLabel(CancellationToken cancellationToken)
    {
        // Arrange: 3 production records 40 days old, none labeled when retention reads them; a reviewer labels the first
        // one right after that read, before the delete.
        var now = _fixture.Clock.GetUtcNow();
        var old = Aged(Records.Sequence(3, start: 100), "production", now - (40 * Day));
        await _fixture.IngestAsync(Records.Set(), [.. old]);
        var set = _fixture.RequireSet(Records.Set());
        var stored = _fixture.Store.GetRecords(set, new RecordQuery(RecordSelection.All, 0, 100, false)).Records;
        using var ownReviews = _fixture.Storage.Reviews is null ? SqliteReviewStore.Open(_fixture.Directory.Path) : null;
        var reviews = _fixture.Storage.Reviews ?? ownReviews!;
        var labeled = stored[0];
        var store = AfterExpiredRead.Wrap(_fixture.Store, _ => reviews.SaveLabelsAsync(
            set.Key, [new LabelWrite(labeled.Sequence, labeled.Record.Id, "7", null)], "ana", now.ToUnixTimeMilliseconds(), cancellationToken));
        using var worker = new RetentionWorker(
            store,
            _fixture.Storage.Coordination,
            new RetentionOptions { Rules = [new RetentionRule { Set = RetentionRule.EverySet, Dataset = "production", MaxAge = 30 * Day }], BatchSize = 10 },
            _fixture.Clock,
            NullLogger<RetentionWorker>.Instance);

        // Act
        var deleted = await worker.RunOnceAsync(cancellationToken);

        // Assert
        var left = _fixture.Store.GetRecords(set, new RecordQuery(RecordSelection.All, 0, 100, false)).Records;
        Assert.Multiple(() =>
        {
            Assert.That(left.Select(r => r.Record.Id), Is.EqualTo(new[] { labeled.Record.Id }), "a label is a person's work: kept, also when given during the run");
            Assert.That(deleted, Is.EqualTo(2));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunOnceAsync_RecordLoggedWithoutATimestamp_StoredWithTheTimeReceivedAndAgedFromIt(CancellationToken cancellationToken)
    {
        // Arrange: 4 production records sent with timestamp 0 (unknown), received 40 days ago; the same 4 sent again
        // (0 again) a day later; 3 stored with 0 by a server before the received time was kept.
        var now = _fixture.Clock.GetUtcNow();
        var unknown = Aged(Records.Sequence(4, start: 100), "production", DateTimeOffset.UnixEpoch);
        var legacy = Aged(Records.Sequence(3, start: 200), "production", DateTimeOffset.UnixEpoch);
        var set = Records.Set();
        var first = await _fixture.Store.IngestAsync(Records.SetId(set), set, [.. unknown.Select(r => PreparedRecord.From(r, r.Id.ToLowerInvariant(), (now - (40 * Day)).ToUnixTimeMilliseconds()))], cancellationToken);
        var retry = await _fixture.Store.IngestAsync(Records.SetId(set), set, [.. unknown.Select(r => PreparedRecord.From(r, r.Id.ToLowerInvariant(), (now - (39 * Day)).ToUnixTimeMilliseconds()))], cancellationToken);
        await _fixture.IngestAsync(set, [.. legacy]);
        var stored = _fixture.RequireSet(set);
        var timestamps = _fixture.Store.GetRecords(stored, new RecordQuery(new RecordSelection("production", new Dictionary<string, string>()), 0, 100, false))
            .Records.ToDictionary(r => r.Record.Id, r => r.Record.TimestampUnixMs, StringComparer.Ordinal);
        using var worker = Worker(new RetentionRule { Set = RetentionRule.EverySet, Dataset = "production", MaxAge = 30 * Day }, batchSize: 10);

        // Act
        var deleted = await worker.RunOnceAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That((first.Accepted, retry.Accepted, retry.Duplicates), Is.EqualTo((4, 0, 4)), "a retry that sends 0 again is a duplicate");
            Assert.That(unknown.Select(r => timestamps[r.Id.ToLowerInvariant()]), Is.All.EqualTo((now - (40 * Day)).ToUnixTimeMilliseconds()), "stored with the time first received");
            Assert.That(deleted, Is.EqualTo(4), "aged from the time received");
            Assert.That(
                _fixture.Store.GetRecords(stored, new RecordQuery(RecordSelection.All, 0, 100, false)).Records.Select(r => r.Record.Id),
                Is.EquivalentTo(legacy.Select(r => r.Id.ToLowerInvariant())),
                "records stored with 0 have no age and are kept");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunOnceAsync_RuleForADatasetNoSetHas_WarnsOnceNamingTheDatasetsThereAre(CancellationToken cancellationToken)
    {
        // Arrange: production records 40 days old; a second rule misspells the dataset (probe Q: "prodution").
        var now = _fixture.Clock.GetUtcNow();
        await _fixture.IngestAsync(Records.Set(), [.. Aged(Records.Sequence(3, start: 100), "production", now - (40 * Day))]);
        var logs = new Reliability.CapturingLoggerProvider();
        using var factory = new LoggerFactory([logs]);
        var rules = new RetentionOptions
        {
            Rules = [new RetentionRule { Set = RetentionRule.EverySet, Dataset = "production", MaxAge = 30 * Day }, new RetentionRule { Set = RetentionRule.EverySet, Dataset = "prodution", MaxAge = 30 * Day }],
        };
        using var worker = new RetentionWorker(_fixture.Store, _fixture.Storage.Coordination, rules, _fixture.Clock, factory.CreateLogger<RetentionWorker>());

        // Act
        var first = await worker.RunOnceAsync(cancellationToken);
        var second = await worker.RunOnceAsync(cancellationToken);

        // Assert
        var warnings = logs.Entries.Where(e => e.Event.Id == 703).ToList();
        Assert.Multiple(() =>
        {
            Assert.That((first, second), Is.EqualTo(((long?)3, (long?)0)), "the rule with the right name deletes");
            Assert.That(warnings, Has.Count.EqualTo(1), "once per rule, and not for the rule that emptied its dataset");
            Assert.That(warnings[0].Message, Does.Contain("Retention rule 1 (Chroma:Retention:Rules:1, set '*')").And.Contain("dataset 'prodution' (their datasets: production)"));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task ExecuteAsync_FakeClockPassesFirstDelayThenInterval_RunsOnEachAndReportsRuleInListSets(CancellationToken cancellationToken)
    {
        // Arrange
        var now = _fixture.Clock.GetUtcNow();
        await _fixture.IngestAsync(Records.Set(), Aged(Records.Sequence(4, start: 100), "production", now - (2 * Day)));
        var set = _fixture.RequireSet(Records.Set());
        var rule = new RetentionRule { Set = set.SetId, Dataset = "production", MaxAge = 3 * Day };
        var options = new RetentionOptions { Rules = [rule], Interval = Day };
        using var worker = new RetentionWorker(_fixture.Store, _fixture.Storage.Coordination, options, _fixture.Clock, NullLogger<RetentionWorker>.Instance);
        var runs = new List<long?>();
        var ran = new SemaphoreSlim(0);
        worker.RunCompleted += deleted =>
        {
            runs.Add(deleted);
            ran.Release();
        };
        await worker.StartAsync(cancellationToken);

        // Act: first run after FirstRunDelay (nothing old enough yet), the next a day later (now 3 days old).
        await AdvanceUntilAsync(RetentionWorker.FirstRunDelay, ran, cancellationToken);
        await AdvanceUntilAsync(Day, ran, cancellationToken);
        await worker.StopAsync(cancellationToken);

        // Assert
        var report = new RetentionReport(options, _fixture.Storage.Coordination);
        var info = report.For(set, report.ReadRuns()).Single();
        Assert.Multiple(() =>
        {
            Assert.That(runs, Is.EqualTo(new long?[] { 0, 4 }));
            Assert.That(_fixture.Store.CountRecords(set, RecordSelection.All), Is.Zero);
            Assert.That(info.Dataset, Is.EqualTo("production"));
            Assert.That(info.MaxAgeMs, Is.EqualTo((long)(3 * Day).TotalMilliseconds));
            Assert.That(info.LastRunUnixMs, Is.GreaterThanOrEqualTo((now + Day).ToUnixTimeMilliseconds()), "the second run's time");
            Assert.That((info.LastRunDeleted, info.DeletedTotal), Is.EqualTo((4L, 4L)));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RunOnceAsync_AnotherRunInProgress_SkipsAndDeletesNothing(CancellationToken cancellationToken)
    {
        // Arrange
        var now = _fixture.Clock.GetUtcNow();
        await _fixture.IngestAsync(Records.Set(), Aged(Records.Sequence(2, start: 100), "production", now - (40 * Day)));
        using var worker = Worker(new RetentionRule { Set = RetentionRule.EverySet, Dataset = "production", MaxAge = Day }, batchSize: 10);
        var entered = await _fixture.Storage.Coordination.TryEnterRetentionAsync(cancellationToken);

        // Act
        long? skipped;
        await using (entered)
        {
            skipped = await worker.RunOnceAsync(cancellationToken);
        }

        var afterwards = await worker.RunOnceAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(entered, Is.Not.Null);
            Assert.That(skipped, Is.Null, "one run at a time");
            Assert.That(afterwards, Is.EqualTo(2));
        });
    }

    private static Protocol.V1.Record[] Aged(Protocol.V1.Record[] records, string dataset, DateTimeOffset timestamp)
    {
        foreach (var record in records)
        {
            record.Dataset = dataset;
            record.TimestampUnixMs = timestamp.ToUnixTimeMilliseconds();
        }

        return records;
    }

    private RetentionWorker Worker(RetentionRule rule, int batchSize) => new(
        _fixture.Store,
        _fixture.Storage.Coordination,
        new RetentionOptions { Rules = [rule], BatchSize = batchSize },
        _fixture.Clock,
        NullLogger<RetentionWorker>.Instance);

    private async Task AdvanceUntilAsync(TimeSpan step, SemaphoreSlim ran, CancellationToken cancellationToken)
    {
        // The worker may not wait on the clock yet when it is first advanced: advance again until its run reports.
        do
        {
            _fixture.Clock.Advance(step);
        }
        while (!await ran.WaitAsync(TimeSpan.FromMilliseconds(500), cancellationToken));
    }
}
