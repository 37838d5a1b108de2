using System.Threading.Channels;
using Chroma.Diagnostics;
using Chroma.Internal;
using Chroma.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace Chroma.Batching;

/// <summary>
/// The single reader of the record queue: groups records by embedding set into batches and hands a batch on when it is
/// full (<c>MaxBatchSize</c> records, or the next record would take its encoded size past <c>MaxBatchBytes</c>), when the oldest record in it has waited <c>FlushInterval</c>, or when a flush is requested. Invalid records
/// (non-finite values, bad dataset names) are dropped and counted here, off the caller's thread.
/// </summary>
internal sealed partial class BatchAssembler : IDisposable
{
    private readonly ChannelReader<PendingRecord> _records;
    private readonly ChannelWriter<OutgoingBatch> _batches;
    private readonly int _maxBatchSize;
    private readonly int _maxBatchBytes;
    private readonly TimeSpan _flushInterval;
    private readonly ClientCounters _counters;
    private readonly CaptureErrorReporter _errors;
    private readonly TimeProvider _time;
    private readonly Dictionary<EmbeddingSet, OpenBatch> _open = [];
    private readonly SemaphoreSlim _wake = new(0, 1);
    private int _flushRequested;
    private int _deadlineWaits;
    private int _queuedSinceWake;
    private long _oldestOpenTimestamp;
    private Task<bool>? _readWait;
    private Task? _wakeWait;

    public BatchAssembler(
        ChannelReader<PendingRecord> records,
        ChannelWriter<OutgoingBatch> batches,
        int maxBatchSize,
        TimeSpan flushInterval,
        ClientCounters counters,
        CaptureErrorReporter errors,
        TimeProvider time,
        int maxBatchBytes = int.MaxValue)
    {
        _records = records;
        _batches = batches;
        _maxBatchSize = maxBatchSize;
        _maxBatchBytes = maxBatchBytes;
        _flushInterval = flushInterval;
        _counters = counters;
        _errors = errors;
        _time = time;
    }

    /// <summary>
    /// Called by producers after each queued record. While a batch is open the loop does not wait on the queue (waking
    /// a thread per record would cost the caller microseconds); producers wake it once per batch's worth of records.
    /// </summary>
    public void OnRecordQueued()
    {
        if (Interlocked.Increment(ref _queuedSinceWake) >= _maxBatchSize)
        {
            Volatile.Write(ref _queuedSinceWake, 0);
            Wake();
        }
    }

    /// <summary>
    /// Gets how many times the loop has started waiting on an open batch's deadline (for tests: a fake clock advanced
    /// between the loop's reading of the time left and its starting the timer moves the timer's end by as much).
    /// </summary>
    internal int DeadlineWaits => Volatile.Read(ref _deadlineWaits);

    /// <summary>Asks the loop to send every partly filled batch as soon as the queue is momentarily empty.</summary>
    public void RequestFlush()
    {
        Volatile.Write(ref _flushRequested, 1);
        Wake();
    }

    /// <summary>Runs until the record queue is completed and empty (then completes the batch channel) or until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var suppression = CaptureSuppression.Begin();
        try
        {
            while (true)
            {
                if (_records.TryRead(out var record))
                {
                    await AddAsync(record, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (Interlocked.Exchange(ref _flushRequested, 0) == 1 && _open.Count > 0)
                {
                    await EmitAllAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var wait = await WaitAsync(cancellationToken).ConfigureAwait(false);
                if (wait == WaitResult.Completed)
                {
                    break;
                }

                if (wait == WaitResult.Deadline)
                {
                    // Take what was queued meanwhile first (records do not wake the loop one by one), then send.
                    Volatile.Write(ref _flushRequested, 1);
                }
            }

            await EmitAllAsync(cancellationToken).ConfigureAwait(false);
            _batches.TryComplete();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            FailOpenBatches();
            _batches.TryComplete();
        }
    }

    /// <summary>After the loop stopped: counts every record still queued as failed and returns its buffers.</summary>
    public int FailQueuedRecords()
    {
        var failed = 0;
        while (_records.TryRead(out var record))
        {
            record.Release();
            failed++;
        }

        if (failed > 0)
        {
            _counters.AddFailed(failed);
        }

        return failed;
    }

    public void Dispose() => _wake.Dispose();

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already awake: one pending wake-up is enough.
        }
        catch (ObjectDisposedException)
        {
            // The client was disposed between a record's enqueue and this wake-up: the drain has settled the record.
        }
    }

    private async Task AddAsync(PendingRecord pending, CancellationToken cancellationToken)
    {
        Record? record;
        try
        {
            record = RecordConverter.TryConvert(pending, out var problem);
            if (record is null)
            {
                _counters.AddDroppedInvalidFromQueue();
                _errors.Report($"{problem}, set '{pending.Set.Descriptor.Id}'", exception: null);
                return;
            }
        }
        finally
        {
            pending.Release();
        }

        // The record's share of the encoded batch: its bytes plus the field tag and length prefix.
        var recordBytes = BatchSizes.OfRecord(record);
        if (_open.TryGetValue(pending.Set, out var open) && open.Bytes + recordBytes > _maxBatchBytes)
        {
            // The record would take the batch past MaxBatchBytes: send the batch as it is, the record opens the next one.
            await CloseAsync(pending.Set, open, cancellationToken).ConfigureAwait(false);
            open = null;
        }

        if (open is null)
        {
            var now = _time.GetTimestamp();
            if (_open.Count == 0)
            {
                _oldestOpenTimestamp = now;
            }

            var batch = new LogBatch { BatchId = RecordIds.NewBatchId(), Set = pending.Set.DescriptorMessage };
            open = new OpenBatch(batch, batch.CalculateSize(), now);
            _open.Add(pending.Set, open);
        }

        open.Batch.Records.Add(record);
        open.Bytes += recordBytes;
        if (open.Batch.Records.Count >= _maxBatchSize || open.Bytes >= _maxBatchBytes)
        {
            // Full by count, or by size (a single record larger than MaxBatchBytes goes alone).
            await CloseAsync(pending.Set, open, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task CloseAsync(EmbeddingSet set, OpenBatch open, CancellationToken cancellationToken)
    {
        _open.Remove(set);
        if (_open.Count > 0)
        {
            // The deadline now belongs to the oldest batch still open. Restarting it instead let a busy set, closing full
            // batches faster than FlushInterval, hold a quiet set's partial batch back for ever.
            _oldestOpenTimestamp = _open.Values.Min(o => o.OpenedAt);
        }

        await EmitAsync(open.Batch, cancellationToken).ConfigureAwait(false);
    }

    private async Task EmitAllAsync(CancellationToken cancellationToken)
    {
        while (_open.Count > 0)
        {
            var (set, open) = _open.First();
            _open.Remove(set);
            await EmitAsync(open.Batch, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task EmitAsync(LogBatch batch, CancellationToken cancellationToken)
    {
        try
        {
            await _batches.WriteAsync(new OutgoingBatch(batch), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _counters.AddFailed(batch.Records.Count);
            throw;
        }
        catch (ChannelClosedException)
        {
            _counters.AddFailed(batch.Records.Count);
        }
    }

    private void FailOpenBatches()
    {
        foreach (var open in _open.Values)
        {
            _counters.AddFailed(open.Batch.Records.Count);
        }

        _open.Clear();
    }

    /// <summary>A set's batch being filled: its encoded size so far, and when it was opened (where its deadline starts).</summary>
    private sealed class OpenBatch(LogBatch batch, int bytes, long openedAt)
    {
        public LogBatch Batch { get; } = batch;

        public int Bytes { get; set; } = bytes;

        public long OpenedAt { get; } = openedAt;
    }
}
