using System.Threading.Channels;
using Chroma.Batching;
using Chroma.Diagnostics;
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
        Write(set, 2);
        await WaitUntilAsync(() => _records.Reader.Count == 0, cancellationToken);

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
