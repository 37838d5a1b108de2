using System.Threading.Channels;
using Chroma.Batching;
using Chroma.Diagnostics;
using Chroma.Internal;
using Chroma.Protocol.V1;
using Chroma.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Chroma.Tests.Batching;

[TestFixture]
public sealed class BatchAssemblerTests
{
    private static readonly TimeSpan s_interval = TimeSpan.FromSeconds(1);
    private ChromaClient _client = null!;
    private FakeTimeProvider _time = null!;
    private Channel<PendingRecord> _records = null!;
    private Channel<OutgoingBatch> _batches = null!;
    private ClientCounters _counters = null!;
    private BatchAssembler _assembler = null!;
    private CancellationTokenSource _stop = null!;
    private Task _loop = null!;

    [SetUp]
    public void SetUp()
    {
        _client = TestClients.Create(new ScriptedIngestSessions());
        _time = new FakeTimeProvider();
        _records = Channel.CreateBounded<PendingRecord>(100);
        _batches = Channel.CreateUnbounded<OutgoingBatch>();
        _counters = new ClientCounters();
        _assembler = new BatchAssembler(_records.Reader, _batches.Writer, maxBatchSize: 3, s_interval, _counters,
            new CaptureErrorReporter(NullLogger.Instance), _time);
        _stop = new CancellationTokenSource();
        _loop = Task.Run(() => _assembler.RunAsync(_stop.Token));
    }

    [TearDown]
    public async Task TearDown()
    {
        await _stop.CancelAsync();
        await _loop.WaitAsync(TimeSpan.FromSeconds(5));
        _assembler.Dispose();
        _stop.Dispose();
        await _client.DisposeAsync();
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_BatchFills_EmitsAtOnceWithoutWaitingForTheDelay(CancellationToken cancellationToken)
    {
        var set = _client.Set();
        for (var i = 0; i < 3; i++)
        {
            Write(set, i);
        }

        var batch = await _batches.Reader.ReadAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(batch.Count, Is.EqualTo(3));
            Assert.That(batch.Message.Records.Select(r => r.Embedding[0]), Is.EqualTo(new[] { 0f, 1f, 2f }));
            Assert.That(batch.Message.Set.Model, Is.EqualTo("unit"));
            Assert.That(batch.Message.Records.Select(r => r.Id).Distinct().Count(), Is.EqualTo(3), "each record has its own id");
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_PartialBatch_EmitsOnlyWhenFlushIntervalHasPassed(CancellationToken cancellationToken)
    {
        var set = _client.Set();
        Write(set, 1);

        // A batch is now open and the loop waits on its deadline's timer. The queue emptying was not enough: the loop could
        // still be between reading the time left and starting the timer, so the clock advanced below before the timer
        // started, the timer ended that much later, and the test waited out its 10 s (2 of 3 runs alone).
        await WaitUntilAsync(() => _assembler.DeadlineWaits == 1, cancellationToken);

        // The second record may wait in the queue: with a batch open the loop waits on the deadline, not on each record
        // (the test waited for the queue to empty after both, and hung in CI when the loop took the first one alone).
        Write(set, 2);
        _time.Advance(s_interval - TimeSpan.FromMilliseconds(1));
        await Task.Delay(20, cancellationToken); // Let a wrongly early timer fire, if any.
        var early = _batches.Reader.TryRead(out _);
        _time.Advance(TimeSpan.FromMilliseconds(2));
        var batch = await _batches.Reader.ReadAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(early, Is.False, "nothing before the interval");
            Assert.That(batch.Count, Is.EqualTo(2));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_BusySetFillsBatchesWhileAQuietSetsBatchWaits_QuietBatchSentWhenItsRecordHasWaitedFlushInterval(CancellationToken cancellationToken)
    {
        // Arrange: one record of a quiet set opens its batch; a busy set then fills a batch every 0.6 s (FlushInterval 1 s).
        var quiet = _client.GetEmbeddingSet(new EmbeddingSetDescriptor("unit", "quiet", "fc", 4));
        var busy = _client.Set();
        Write(quiet, 100);
        await WaitUntilAsync(() => _assembler.DeadlineWaits == 1, cancellationToken);

        // Act: three busy batches, 1.8 s in all; the quiet record's deadline was at 1 s.
        var quietBatch = (OutgoingBatch?)null;
        for (var round = 0; round < 3; round++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(600));
            for (var i = 0; i < 3; i++)
            {
                Write(busy, i);
            }

            OutgoingBatch read;
            do
            {
                read = await _batches.Reader.ReadAsync(cancellationToken);
                quietBatch ??= read.Message.Set.ModelVersion == "quiet" ? read : null;
            }
            while (read.Message.Set.ModelVersion == "quiet");
        }

        if (quietBatch is null)
        {
            // Give a due deadline time to fire on the loop (real time: the fake clock is past it already).
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(TimeSpan.FromSeconds(2));
            try
            {
                quietBatch = await _batches.Reader.ReadAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
        }

        // Assert: each batch of the busy set restarted the shared deadline, so the quiet record waited for ever.
        Assert.That(quietBatch?.Message.Records.Single().Embedding[0], Is.EqualTo(100f), "the quiet set's batch is sent once its record has waited FlushInterval");
    }

    [Test, CancelAfter(10_000)]
    public async Task OnRecordQueued_BatchWorthQueuedWhileBatchOpen_WakesTheLoopWithoutTimePassing(CancellationToken cancellationToken)
    {
        var set = _client.Set();
        Write(set, 1);
        await WaitUntilAsync(() => _records.Reader.Count == 0, cancellationToken); // a batch is now open, waiting on its deadline
        for (var i = 2; i <= 4; i++)
        {
            Write(set, i);
        }

        var full = await _batches.Reader.ReadAsync(cancellationToken);

        Assert.That(full.Message.Records.Select(r => r.Embedding[0]), Is.EqualTo(new[] { 1f, 2f, 3f }));
    }

    [Test, CancelAfter(10_000)]
    public async Task RequestFlush_PartialBatch_EmitsWithoutTimePassing(CancellationToken cancellationToken)
    {
        var set = _client.Set();
        Write(set, 1);
        await WaitUntilAsync(() => _records.Reader.Count == 0, cancellationToken);

        _assembler.RequestFlush();
        var batch = await _batches.Reader.ReadAsync(cancellationToken);

        Assert.That(batch.Count, Is.EqualTo(1));
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_RecordWithNaN_DroppedAndCountedNeverSent(CancellationToken cancellationToken)
    {
        var set = _client.Set();
        Write(set, 1);
        Write(set, float.NaN);
        Write(set, 3);
        Write(set, 4);
        _assembler.RequestFlush();

        var batch = await _batches.Reader.ReadAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(batch.Message.Records.Select(r => r.Embedding[0]), Is.EqualTo(new[] { 1f, 3f, 4f }));
            Assert.That(_counters.DroppedInvalid, Is.EqualTo(1));
            Assert.That(_counters.Dropped, Is.EqualTo(1));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_TwoSets_NeverMixesSetsInOneBatch(CancellationToken cancellationToken)
    {
        var first = _client.Set();
        var second = _client.GetEmbeddingSet(new EmbeddingSetDescriptor("unit", "2", "fc", 4));
        Write(first, 1);
        Write(second, 2);
        Write(first, 3);
        Write(first, 5);

        _assembler.RequestFlush();
        var read = new[] { await _batches.Reader.ReadAsync(cancellationToken), await _batches.Reader.ReadAsync(cancellationToken) };
        var full = read.Single(b => b.Message.Set.ModelVersion == "1");
        var partial = read.Single(b => b.Message.Set.ModelVersion == "2");

        Assert.Multiple(() =>
        {
            Assert.That(full.Message.Set.ModelVersion, Is.EqualTo("1"));
            Assert.That(full.Message.Records.Select(r => r.Embedding[0]), Is.EqualTo(new[] { 1f, 3f, 5f }));
            Assert.That(partial.Message.Set.ModelVersion, Is.EqualTo("2"));
            Assert.That(partial.Count, Is.EqualTo(1));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_QueueCompleted_EmitsTheRemainderThenCompletes(CancellationToken cancellationToken)
    {
        var set = _client.Set();
        Write(set, 1);
        Write(set, 2);
        _records.Writer.Complete();
        _assembler.RequestFlush(); // As ChromaClient.DisposeAsync does: wake the loop waiting on the open batch's deadline.

        await _loop.WaitAsync(cancellationToken);
        var batches = new List<OutgoingBatch>();
        await foreach (var batch in _batches.Reader.ReadAllAsync(cancellationToken))
        {
            batches.Add(batch);
        }

        Assert.That(batches.Sum(b => b.Count), Is.EqualTo(2));
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_NextRecordWouldPassMaxBatchBytes_ClosesTheBatchBeforeIt(CancellationToken cancellationToken)
    {
        // Arrange: a budget of two records (and a batch's own bytes), with room for 10 by count.
        var set = _client.Set(dimension: 64);
        var recordBytes = BatchSizes.OfRecord(RecordConverter.TryConvert(Pending(set, 1, 64), out _)!);
        var budget = new LogBatch { BatchId = RecordIds.NewBatchId(), Set = set.DescriptorMessage }.CalculateSize() + (2 * recordBytes) + 1;
        await using var assembler = new AssemblerRun(_client, maxBatchSize: 10, budget, _time);

        // Act
        for (var i = 0; i < 5; i++)
        {
            assembler.Write(Pending(set, i, 64));
        }

        assembler.RequestFlush(); // after the records already queued: the last, partly filled batch goes too
        var batches = new List<OutgoingBatch>();
        while (batches.Sum(b => b.Count) < 5)
        {
            batches.Add(await assembler.Batches.ReadAsync(cancellationToken));
        }

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(batches.Select(b => b.Count), Is.EqualTo(new[] { 2, 2, 1 }));
            Assert.That(batches.Select(b => b.Message.CalculateSize()), Has.All.LessThanOrEqualTo(budget));
            Assert.That(batches.Select(b => b.BatchId).Distinct().Count(), Is.EqualTo(3));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_RecordLargerThanMaxBatchBytes_IsSentAlone(CancellationToken cancellationToken)
    {
        // Arrange: one record is about 1 KiB, the budget 1,024 bytes in all.
        var set = _client.Set(dimension: 256);
        await using var assembler = new AssemblerRun(_client, maxBatchSize: 10, maxBatchBytes: 1024, _time);

        // Act
        for (var i = 0; i < 3; i++)
        {
            assembler.Write(Pending(set, i, 256));
        }

        var batches = new List<OutgoingBatch>();
        for (var i = 0; i < 3; i++)
        {
            batches.Add(await assembler.Batches.ReadAsync(cancellationToken)); // each is full by size at once: no flush needed
        }

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(batches.Select(b => b.Count), Is.EqualTo(new[] { 1, 1, 1 }));
            Assert.That(batches[0].Message.CalculateSize(), Is.GreaterThan(1024));
            Assert.That(assembler.Counters.DroppedInvalid + assembler.Counters.Failed, Is.Zero);
        });
    }

    private PendingRecord Pending(EmbeddingSet set, float first, int dimension)
    {
        var buffer = _client.Buffers.Rent(dimension);
        Array.Fill(buffer, 0.5f, 0, dimension);
        buffer[0] = first;
        return new PendingRecord(set, ChromaDatasets.Production, buffer, dimension, null, 0, null, "1", null, null, _time.GetUtcNow().ToUnixTimeMilliseconds());
    }

    /// <summary>A second assembler with its own limits, run until disposed.</summary>
    private sealed class AssemblerRun : IAsyncDisposable
    {
        private readonly Channel<PendingRecord> _records = Channel.CreateBounded<PendingRecord>(100);
        private readonly Channel<OutgoingBatch> _batches = Channel.CreateUnbounded<OutgoingBatch>();
        private readonly BatchAssembler _assembler;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public AssemblerRun(ChromaClient client, int maxBatchSize, int maxBatchBytes, TimeProvider time)
        {
            _ = client;
            _assembler = new BatchAssembler(_records.Reader, _batches.Writer, maxBatchSize, s_interval, Counters,
                new CaptureErrorReporter(NullLogger.Instance), time, maxBatchBytes);
            _loop = Task.Run(() => _assembler.RunAsync(_stop.Token));
        }

        public ClientCounters Counters { get; } = new();

        public ChannelReader<OutgoingBatch> Batches => _batches.Reader;

        public void RequestFlush() => _assembler.RequestFlush();

        public void Write(PendingRecord record)
        {
            Assert.That(_records.Writer.TryWrite(record), Is.True);
            _assembler.OnRecordQueued();
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop.WaitAsync(TimeSpan.FromSeconds(5));
            _assembler.Dispose();
            _stop.Dispose();
        }
    }

    private void Write(EmbeddingSet set, float first)
    {
        var buffer = _client.Buffers.Rent(4);
        buffer[0] = first;
        buffer[1] = buffer[2] = buffer[3] = 0;
        var record = new PendingRecord(set, ChromaDatasets.Production, buffer, 4, null, 0, null, "1", null, null, _time.GetUtcNow().ToUnixTimeMilliseconds());
        Assert.That(_records.Writer.TryWrite(record), Is.True);
        _assembler.OnRecordQueued(); // as ChromaClient.TryEnqueue does
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(1, cancellationToken);
        }
    }
}
