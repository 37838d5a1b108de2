using System.Diagnostics.Metrics;
using Chroma.Tests.Support;

namespace Chroma.Tests.Batching;

[TestFixture]
public sealed class ChromaClientQueueTests
{
    [Test, CancelAfter(20_000)]
    public async Task Log_QueueFull_DropsAndCountsWithoutBlocking(CancellationToken cancellationToken)
    {
        var sessions = new ScriptedIngestSessions { WriteGate = new TaskCompletionSource() }; // a server that never reads
        var client = TestClients.Create(sessions, o =>
        {
            o.QueueCapacity = 10;
            o.MaxBatchSize = 5;
            o.MaxBatchesInFlight = 1;
            o.DrainTimeout = TimeSpan.FromMilliseconds(100);
        });
        var set = client.Set();

        var queued = 0;
        for (var i = 0; i < 1_000; i++)
        {
            queued += set.LogProduction([i, 0, 0, 0], "1") ? 1 : 0;
        }

        var during = client.Statistics;
        await client.DisposeAsync().AsTask().WaitAsync(cancellationToken);
        var after = client.Statistics;

        Assert.Multiple(() =>
        {
            Assert.That(during.Received, Is.EqualTo(1_000));
            Assert.That(during.Dropped, Is.EqualTo(1_000 - queued), "every refused record is counted");
            // The bound covers every record in memory, batched and in flight included.
            Assert.That(queued, Is.EqualTo(10));
            Assert.That(after.Dropped + after.Failed, Is.EqualTo(1_000), "after disposal every record is settled");
            Assert.That(after.Exported, Is.Zero);
        });
    }

    private static IEnumerable<TestCaseData> BadInputs()
    {
        yield return new TestCaseData(new Func<EmbeddingSet, bool>(s => s.LogProduction([1, 2, 3], "1"))).SetArgDisplayNames("wrong dimension");
        yield return new TestCaseData(new Func<EmbeddingSet, bool>(s => s.LogProduction([], "1"))).SetArgDisplayNames("empty embedding");
        yield return new TestCaseData(new Func<EmbeddingSet, bool>(s => s.Log(null!, [1, 2, 3, 4]))).SetArgDisplayNames("null dataset");
        yield return new TestCaseData(new Func<EmbeddingSet, bool>(s => s.LogProduction([1, float.NaN, 3, 4], "1"))).SetArgDisplayNames("NaN");
        yield return new TestCaseData(new Func<EmbeddingSet, bool>(s => s.LogProduction([1, float.PositiveInfinity, 3, 4], "1"))).SetArgDisplayNames("infinity");
        yield return new TestCaseData(new Func<EmbeddingSet, bool>(s => s.LogProduction([1, 3e38f, 3, 4], "1"))).SetArgDisplayNames("value the server refuses as too large");
        yield return new TestCaseData(new Func<EmbeddingSet, bool>(s => s.LogProduction([1, 2, 3, 4], "1", [0.5f, float.NaN]))).SetArgDisplayNames("NaN probability");
        yield return new TestCaseData(new Func<EmbeddingSet, bool>(s => s.Log("no spaces allowed", [1, 2, 3, 4]))).SetArgDisplayNames("bad dataset name");
        yield return new TestCaseData(new Func<EmbeddingSet, bool>(s => s.LogTraining([1, 2, 3, 4], "1", metadata: new Dictionary<string, string> { ["k"] = null! }))).SetArgDisplayNames("null metadata value");
    }

    [TestCaseSource(nameof(BadInputs)), CancelAfter(10_000)]
    public async Task Log_InvalidInputRejectedAtOnce_ReturnsFalseAndCountsNeverThrows(Func<EmbeddingSet, bool> log, CancellationToken cancellationToken)
    {
        var sessions = new ScriptedIngestSessions();
        await using var client = TestClients.Create(sessions);
        var set = client.Set();

        var queued = log(set);

        Assert.Multiple(() =>
        {
            Assert.That(queued, Is.False);
            Assert.That(client.Statistics.DroppedInvalid, Is.EqualTo(1));
            Assert.That(client.CaptureErrorCount, Is.EqualTo(1));
        });
    }

    [TestCaseSource(nameof(BadInputs)), CancelAfter(20_000)]
    public async Task Log_InvalidInputWhileTheQueueIsFull_CountedAsInvalidNotAsQueueFull(Func<EmbeddingSet, bool> log, CancellationToken cancellationToken)
    {
        // Arrange: a server that never reads, and a queue filled by valid records (probe L, L1: while the server was down,
        // a caller's bad data was counted as "queue full" and never reported).
        var sessions = new ScriptedIngestSessions { WriteGate = new TaskCompletionSource() };
        await using var client = TestClients.Create(sessions, o =>
        {
            o.QueueCapacity = 10;
            o.MaxBatchSize = 5;
            o.MaxBatchesInFlight = 1;
            o.DrainTimeout = TimeSpan.FromMilliseconds(100);
        });
        var set = client.Set();
        for (var i = 0; i < 20; i++)
        {
            set.LogProduction([i, 0, 0, 0], "1");
        }

        var full = client.Statistics;

        // Act
        var queued = log(set);

        // Assert
        var after = client.Statistics;
        Assert.Multiple(() =>
        {
            Assert.That(full.Dropped, Is.GreaterThan(0), "the queue was full");
            Assert.That(queued, Is.False);
            Assert.That(after.DroppedInvalid, Is.EqualTo(1), "counted as invalid");
            Assert.That(after.Dropped - after.DroppedInvalid, Is.EqualTo(full.Dropped), "not as queue full (invalid records are a part of the dropped)");
            Assert.That(client.CaptureErrorCount, Is.EqualTo(1), "and reported");
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task Log_NullMetadataValue_RefusedCountedOnceLoggedWithTheSetAndOthersStillSent(CancellationToken cancellationToken)
    {
        // Arrange
        var sessions = new ScriptedIngestSessions();
        var logs = new RecordingLoggerProvider();
        await using var client = TestClients.Create(sessions, o => o.LoggerFactory = logs);
        var set = client.Set();

        // Act
        set.LogProduction([1, 1, 1, 1], "1");
        var queued = set.LogTraining([1, 2, 3, 4], "1", metadata: new Dictionary<string, string> { ["source"] = null! });
        set.LogProduction([2, 2, 2, 2], "1");
        await client.FlushAsync(cancellationToken);

        // Assert
        var stats = client.Statistics;
        Assert.Multiple(() =>
        {
            Assert.That(queued, Is.False, "refused before it is queued, as the XML doc promises");
            Assert.That(stats.DroppedInvalid, Is.EqualTo(1));
            Assert.That(stats.Dropped, Is.EqualTo(1));
            Assert.That(client.CaptureErrorCount, Is.EqualTo(1), "counted once, not again in the background");
            Assert.That(stats.Exported, Is.EqualTo(2));
            Assert.That(sessions.Records, Has.Count.EqualTo(2));
            Assert.That(
                logs.Entries.Select(e => e.Message),
                Has.One.Contains("metadata has a null key or value").And.Contains($"set '{set.Descriptor.Id}'"));
        });
    }

    [Test, CancelAfter(20_000)]
    public async Task FlushAsync_LaterRecordsDroppedForAFullQueue_WaitsForTheRecordsLoggedBeforeIt(CancellationToken cancellationToken)
    {
        // Arrange: a stalled server and a full queue of 4 records; the flush must wait for those 4.
        var sessions = new ScriptedIngestSessions { WriteGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        await using var client = TestClients.Create(sessions, o =>
        {
            o.QueueCapacity = 4;
            o.MaxBatchSize = 2;
            o.FlushInterval = TimeSpan.FromHours(1);
        });
        var set = client.Set();
        for (var i = 0; i < 4; i++)
        {
            Assert.That(set.LogTraining([i, 0, 0, 0], "0"), Is.True);
        }

        // Act: the flush starts, then the application goes on logging; the queue is full, so these are dropped.
        var flush = client.FlushAsync(CancellationToken.None); // no token: the very task of the wait, completed as it settles
        for (var i = 0; i < 4; i++)
        {
            Assert.That(set.LogTraining([10 + i, 0, 0, 0], "0"), Is.False);
        }

        var completedWhileStalled = flush.IsCompleted;
        var exportedWhenCompleted = client.Statistics.Exported;
        sessions.WriteGate.SetResult();
        await flush.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(completedWhileStalled, Is.False, $"the flush returned with the 4 records before it unsent (exported {exportedWhenCompleted})");
            Assert.That(client.Statistics.Exported, Is.EqualTo(4));
        });
    }

    [Test, CancelAfter(20_000)]
    public async Task FlushAsync_GivenUpByItsCallerWhileTheServerIsStalled_NothingLeftWaiting(CancellationToken cancellationToken)
    {
        // Arrange: a stalled server, so the record never settles; callers bound each flush (a health probe, a timeout).
        var sessions = new ScriptedIngestSessions { WriteGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        await using var client = TestClients.Create(sessions, o => o.DrainTimeout = TimeSpan.Zero);
        client.Set().LogTraining([1, 0, 0, 0], "0");

        // Act
        for (var i = 0; i < 1_000; i++)
        {
            using var giveUp = new CancellationTokenSource();
            var flush = client.FlushAsync(giveUp.Token);
            await giveUp.CancelAsync();
            Assert.That(async () => await flush, Throws.InstanceOf<OperationCanceledException>());
        }

        // Assert
        Assert.That(client.PendingFlushes, Is.Zero, "a flush its caller gave up on does not stay registered");
    }

    [Test, CancelAfter(10_000)]
    public async Task Log_AfterDispose_ReturnsFalseAndCountsDropped(CancellationToken cancellationToken)
    {
        var client = TestClients.Create(new ScriptedIngestSessions());
        var set = client.Set();
        await client.DisposeAsync().AsTask().WaitAsync(cancellationToken);

        var queued = set.LogProduction([1, 2, 3, 4], "1");

        Assert.Multiple(() =>
        {
            Assert.That(queued, Is.False);
            Assert.That(client.Statistics.Dropped, Is.EqualTo(1));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task Log_CaptureDisabled_NothingQueuedOrCounted(CancellationToken cancellationToken)
    {
        var sessions = new ScriptedIngestSessions();
        await using var client = TestClients.Create(sessions);
        var set = client.Set();

        client.CaptureEnabled = false;
        var queued = set.LogProduction([1, 2, 3, 4], "1");
        client.CaptureEnabled = true;
        await client.FlushAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(queued, Is.False);
            Assert.That(client.Statistics.Received, Is.Zero);
            Assert.That(sessions.Written, Is.Empty);
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task DisposeAsync_RecordsQueued_DeliversThemBeforeClosing(CancellationToken cancellationToken)
    {
        var sessions = new ScriptedIngestSessions();
        var client = TestClients.Create(sessions, o => o.FlushInterval = TimeSpan.FromHours(1));
        var set = client.Set();
        for (var i = 0; i < 1_234; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
        }

        await client.DisposeAsync().AsTask().WaitAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(client.Statistics.Exported, Is.EqualTo(1_234));
            Assert.That(sessions.Batches.SelectMany(b => b.Records).Select(r => (int)r.Embedding[0]), Is.EqualTo(Enumerable.Range(0, 1_234)));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task DisposeAsync_ServerStalled_GivesUpAfterDrainTimeoutAndCountsFailed(CancellationToken cancellationToken)
    {
        // A batch is in flight (its write never completes) and the rest waits behind it.
        var sessions = new ScriptedIngestSessions { WriteGate = new TaskCompletionSource() };
        var logs = new RecordingLoggerProvider();
        var client = TestClients.Create(sessions, o =>
        {
            o.DrainTimeout = TimeSpan.FromMilliseconds(200);
            o.MaxBatchSize = 32;
            o.LoggerFactory = logs;
        });
        var set = client.Set();
        for (var i = 0; i < 100; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
        }

        await client.DisposeAsync().AsTask().WaitAsync(cancellationToken);

        // Before, the warning left the in-flight batch out (an outside probe saw 512 told, 1,000 counted).
        var warning = logs.Entries.Single(e => e.Id.Id == 6).Message;
        Assert.Multiple(() =>
        {
            Assert.That(client.Statistics.Failed, Is.EqualTo(100));
            Assert.That(client.Statistics.Queued, Is.Zero);
            Assert.That(warning, Does.StartWith("Chroma could not deliver 100 records before the drain timeout"));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task DisposeAsync_CalledAgainWhileTheFirstDrains_ReturnsOnlyWhenTheDrainEnds(CancellationToken cancellationToken)
    {
        // Arrange: a stalled server and a drain of 5 s on a fake clock, so the first disposal is still draining.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var sessions = new ScriptedIngestSessions { WriteGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var client = TestClients.Create(sessions, o =>
        {
            o.TimeProvider = time;
            o.DrainTimeout = TimeSpan.FromSeconds(5);
        });
        var set = client.Set();
        for (var i = 0; i < 10; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
        }

        // Act: a second disposal (the DI container, a using block, Dispose from another thread) while the first drains.
        var first = client.DisposeAsync().AsTask();
        var second = client.DisposeAsync().AsTask();
        var secondReturnedEarly = second.IsCompleted;
        var queuedWhenSecondReturned = second.IsCompleted ? client.Statistics.Queued : -1;
        time.Advance(TimeSpan.FromSeconds(5));
        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(secondReturnedEarly, Is.False, $"the second disposal returned with {queuedWhenSecondReturned} records neither delivered nor counted");
            Assert.That(client.Statistics.Failed, Is.EqualTo(10));
            Assert.That(client.Statistics.Queued, Is.Zero);
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task DrainAtProcessExit_ClientNeverDisposed_DeliversWhatItHolds(CancellationToken cancellationToken)
    {
        var sessions = new ScriptedIngestSessions();
        var client = TestClients.Create(sessions, o => o.FlushInterval = TimeSpan.FromHours(1));
        var set = client.Set();
        for (var i = 0; i < 321; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
        }

        await Task.Run(client.DrainAtProcessExit, cancellationToken).WaitAsync(cancellationToken);

        var disposed = Assert.ThrowsAsync<ObjectDisposedException>(() => client.FlushAsync(cancellationToken));
        Assert.Multiple(() =>
        {
            Assert.That(client.Statistics.Exported, Is.EqualTo(321), "the exit handler drains as DisposeAsync does");
            Assert.That(sessions.Batches.SelectMany(b => b.Records).Count(), Is.EqualTo(321));
            Assert.That(set.LogTraining([1, 0, 0, 0], "0"), Is.False, "the client is closed after it");
            Assert.That(disposed!.ObjectName, Is.EqualTo(typeof(ChromaClient).FullName), "a flush after disposal names the client");
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task DrainAtProcessExit_ServerStalled_GivesUpAfterDrainTimeoutAndCountsFailed(CancellationToken cancellationToken)
    {
        var sessions = new ScriptedIngestSessions { WriteGate = new TaskCompletionSource() };
        var client = TestClients.Create(sessions, o => o.DrainTimeout = TimeSpan.FromMilliseconds(200));
        var set = client.Set();
        for (var i = 0; i < 50; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
        }

        await Task.Run(client.DrainAtProcessExit, cancellationToken).WaitAsync(cancellationToken);

        Assert.That(client.Statistics.Failed, Is.EqualTo(50), "nothing is lost uncounted");
    }

    [Test, CancelAfter(10_000)]
    public async Task DrainAtProcessExit_AfterDisposeAsync_DoesNothing(CancellationToken cancellationToken)
    {
        var sessions = new ScriptedIngestSessions();
        var client = TestClients.Create(sessions);
        client.Set().LogTraining([1, 0, 0, 0], "0");
        await client.DisposeAsync().AsTask().WaitAsync(cancellationToken);

        Assert.DoesNotThrow(client.DrainAtProcessExit);
        Assert.That(client.Statistics.Exported, Is.EqualTo(1));
    }

    [Test, CancelAfter(10_000)]
    public async Task Meter_Chroma_PublishesTheCounters(CancellationToken cancellationToken)
    {
        await using var client = TestClients.Create(new ScriptedIngestSessions());
        var set = client.Set();
        set.LogTraining([1, 2, 3, 4], "0");
        set.LogTraining([1, 2, 3], "0");
        await client.FlushAsync(cancellationToken);

        var seen = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Chroma")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => seen[instrument.Name] = seen.GetValueOrDefault(instrument.Name) + value);
        listener.Start();
        listener.RecordObservableInstruments();

        Assert.Multiple(() =>
        {
            Assert.That(seen["chroma.client.records.received"], Is.GreaterThanOrEqualTo(2));
            Assert.That(seen["chroma.client.records.exported"], Is.GreaterThanOrEqualTo(1));
            Assert.That(seen["chroma.client.records.dropped"], Is.GreaterThanOrEqualTo(1));
            Assert.That(seen, Does.ContainKey("chroma.client.records.failed"));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task Meter_InvalidRecordRefused_PublishedAsDroppedInvalid(CancellationToken cancellationToken)
    {
        // Arrange
        await using var client = TestClients.Create(new ScriptedIngestSessions());
        var set = client.Set();
        var seen = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // This client's instruments only: other tests' clients publish on meters of the same name.
            if (instrument.Meter.Name == "Chroma" && instrument.Name.StartsWith("chroma.client.records.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => seen[instrument.Name] = Math.Max(seen.GetValueOrDefault(instrument.Name), value));
        listener.Start();

        // Act
        set.LogTraining([1, 2, 3, 4], "0", metadata: new Dictionary<string, string> { ["k"] = null! });
        set.LogTraining([1, 2, 3], "0");
        await client.FlushAsync(cancellationToken);
        listener.RecordObservableInstruments();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(seen["chroma.client.records.dropped_invalid"], Is.GreaterThanOrEqualTo(2));
            Assert.That(seen["chroma.client.records.dropped"], Is.GreaterThanOrEqualTo(seen["chroma.client.records.dropped_invalid"]));
        });
    }

    [Test, CancelAfter(20_000)]
    public async Task Constructor_InsideCallersActivity_BackgroundSenderDoesNotCarryIt(CancellationToken cancellationToken)
    {
        var sessions = new ScriptedIngestSessions();
        ChromaClient client;
        using (new System.Diagnostics.Activity("caller-request").Start())
        {
            client = TestClients.Create(sessions);
        }

        await using (client)
        {
            client.Set().LogProduction([1, 2, 3, 4]);
            await client.FlushAsync(cancellationToken);
        }

        Assert.That(sessions.ActivityAtOpen, Is.Not.Empty.And.All.Null, "the sender loop runs without the constructing caller's ExecutionContext");
    }
}
