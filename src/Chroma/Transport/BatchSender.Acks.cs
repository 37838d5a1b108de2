using Chroma.Batching;
using Chroma.Diagnostics;
using Chroma.Protocol.V1;
using Grpc.Core;

namespace Chroma.Transport;

internal sealed partial class BatchSender
{
    // How often a batch the server refuses for now (a full disk, its queue full) is said as a warning while it lasts.
    private static readonly TimeSpan RefusalWarningInterval = TimeSpan.FromSeconds(30);

    private async Task WaitForAckOrBatchAsync(CancellationToken cancellationToken)
    {
        _ackRead ??= ReadAckAsync(_session!, cancellationToken);
        var remaining = _ackTimeout - _time.GetElapsedTime(_lastProgress);
        if (remaining <= TimeSpan.Zero)
        {
            throw AckTimedOut();
        }

        using var timeoutCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timeout = Task.Delay(remaining, _time, timeoutCancellation.Token);
        Task finished;
        if (_unacked.Count < _window && !_inputCompleted)
        {
            _batchWait ??= _batches.WaitToReadAsync(cancellationToken).AsTask();
            finished = await Task.WhenAny(_ackRead, _batchWait, timeout).ConfigureAwait(false);
        }
        else
        {
            finished = await Task.WhenAny(_ackRead, timeout).ConfigureAwait(false);
        }

        await timeoutCancellation.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();

        if (finished == _batchWait)
        {
            await WaitForBatchAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        if (finished == timeout)
        {
            throw AckTimedOut();
        }

        var result = await _ackRead.ConfigureAwait(false);
        _ackRead = null;
        if (result.Error is not null)
        {
            throw result.Error;
        }

        if (result.Ack is null)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "The server ended the ingest stream."));
        }

        await HandleAckAsync(result.Ack, cancellationToken).ConfigureAwait(false);
    }

    private async Task HandleAckAsync(LogAck ack, CancellationToken cancellationToken)
    {
        var index = IndexOf(ack.BatchId);
        if (index < 0)
        {
            return; // An answer to a batch already settled; nothing to do.
        }

        _lastProgress = _time.GetTimestamp();
        Volatile.Write(ref _consecutiveFailures, 0);
        Volatile.Write(ref _lastAckUnixMs, _time.GetUtcNow().ToUnixTimeMilliseconds());
        Volatile.Write(ref _permanentFailureLogged, 0);
        Volatile.Write(ref _refusal, null);
        var batch = _unacked[index];
        _counters.RecordAckLatency(_time.GetElapsedTime(batch.SentTimestamp));
        if (ack.Error is null)
        {
            _unacked.RemoveAt(index);
            _counters.AddExported(batch.Count);
            return;
        }

        var code = (StatusCode)ack.Error.Code;
        if (TransientFaults.IsTransient(code))
        {
            // The server shed load (or hit a passing fault) and stored nothing: wait as asked, then send it again.
            var delayMs = Math.Max(ack.Error.RetryAfterMs, 10);
            var now = _time.GetTimestamp();
            if (_lastRefusalWarning == 0 || _time.GetElapsedTime(_lastRefusalWarning, now) >= RefusalWarningInterval)
            {
                // Said once while it lasts (a full disk on the server, its queue full): the records wait in this queue.
                _lastRefusalWarning = now;
                ChromaClientLog.ServerRefusedForNow(_logger, code, ack.Error.Message, delayMs, RefusalWarningInterval.TotalSeconds);
            }
            else
            {
                ChromaClientLog.ServerBusy(_logger, delayMs);
            }
            await Task.Delay(TimeSpan.FromMilliseconds(delayMs), _time, cancellationToken).ConfigureAwait(false);
            await ResendAsync(batch, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (await TrySplitRejectedAsync(index, ack, cancellationToken).ConfigureAwait(false))
        {
            return; // Too many records for the server: sent again in smaller batches.
        }

        var setId = batch.Message.Set?.Model + "/" + batch.Message.Set?.ModelVersion + "/" + batch.Message.Set?.Layer;
        if (DropListedRecords(batch, ack.Error, setId, code) is { } left)
        {
            if (left == 0)
            {
                _unacked.RemoveAt(index);
            }
            else
            {
                await ResendAsync(batch, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        // A server older than BatchError.records names only the first bad record: drop that one and re-send.
        var recordIndex = ack.Error.RecordIndex;
        if (recordIndex >= 0 && recordIndex < batch.Count && batch.Count > 1)
        {
            // One bad record must not sink the others: drop it (counted) and send the rest again.
            ChromaClientLog.RecordRejected(_logger, recordIndex, setId, code, ack.Error.Message);
            batch.Message.Records.RemoveAt(recordIndex);
            _counters.AddFailed(1);
            await ResendAsync(batch, cancellationToken).ConfigureAwait(false);
            return;
        }

        _unacked.RemoveAt(index);
        _counters.AddFailed(batch.Count);
        ChromaClientLog.BatchRejected(_logger, batch.Count, setId, code, ack.Error.Message);
    }

    /// <summary>
    /// Drops every record the server listed in <see cref="BatchError.Records"/> (each counted as failed) with one
    /// warning for the batch. Returns how many records are left to re-send, or null when the error lists no record of
    /// this batch (an older server, or an error about the batch itself).
    /// </summary>
    private int? DropListedRecords(OutgoingBatch batch, BatchError error, string setId, StatusCode code)
    {
        var total = batch.Count;
        var rejected = new bool[total];
        var count = 0;
        RecordError? first = null;
        foreach (var record in error.Records)
        {
            var i = record.RecordIndex;
            if (i >= 0 && i < total && !rejected[i])
            {
                rejected[i] = true;
                count++;
                first = first is null || i < first.RecordIndex ? record : first;
            }
        }

        if (first is null)
        {
            return null;
        }

        var records = batch.Message.Records;
        var kept = new List<Record>(total - count);
        for (var i = 0; i < total; i++)
        {
            if (!rejected[i])
            {
                kept.Add(records[i]);
            }
        }

        records.Clear();
        records.AddRange(kept);
        if (kept.Count == 0)
        {
            ChromaClientLog.AllRecordsRejected(_logger, count, batch.BatchId, setId, code, first.Message);
        }
        else
        {
            ChromaClientLog.RecordsRejected(_logger, count, total, batch.BatchId, setId, code, first.Message, kept.Count);
        }

        // Counted after the warning: a flush waiting on these counts then sees the warning logged.
        _counters.AddFailed(count);
        return kept.Count;
    }

    private async Task ResendAsync(OutgoingBatch batch, CancellationToken cancellationToken)
    {
        batch.Attempts++;
        batch.SentTimestamp = _time.GetTimestamp();
        await _session!.WriteAsync(batch.Message, cancellationToken).ConfigureAwait(false);
        _lastProgress = _time.GetTimestamp();
    }

    private int IndexOf(string batchId)
    {
        for (var i = 0; i < _unacked.Count; i++)
        {
            if (string.Equals(_unacked[i].BatchId, batchId, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private RpcException AckTimedOut() =>
        new(new Status(StatusCode.DeadlineExceeded, $"The server acknowledged no batch within {_ackTimeout.TotalSeconds:F1} s."));

    /// <summary>Reads one ack without ever faulting, so an abandoned read after a reconnect is never unobserved.</summary>
    private static async Task<LogAckResult> ReadAckAsync(IIngestSession session, CancellationToken cancellationToken)
    {
        try
        {
            return new LogAckResult(await session.ReadAckAsync(cancellationToken).ConfigureAwait(false), null);
        }
        catch (RpcException ex)
        {
            return new LogAckResult(null, ex);
        }
        catch (OperationCanceledException ex)
        {
            return new LogAckResult(null, new RpcException(new Status(StatusCode.Cancelled, "The ingest stream was cancelled.", ex)));
        }
    }

    private readonly record struct LogAckResult(LogAck? Ack, RpcException? Error);
}
