namespace Chroma.Batching;

internal sealed partial class BatchAssembler
{
    private enum WaitResult
    {
        Records,
        Deadline,
        Flush,
        Completed,
    }

    /// <summary>
    /// With no batch open, waits for the first record (or a flush request). With a batch open, waits only for its
    /// deadline or a wake-up (a batch's worth of records queued, or a flush request), not for each record, so producers
    /// do not pay for waking this loop on every call. The pending read and wake tasks are kept across calls so no
    /// waiter is abandoned.
    /// </summary>
    private async Task<WaitResult> WaitAsync(CancellationToken cancellationToken)
    {
        _wakeWait ??= _wake.WaitAsync(cancellationToken);
        if (_open.Count == 0)
        {
            _readWait ??= _records.WaitToReadAsync(cancellationToken).AsTask();
            var first = await Task.WhenAny(_readWait, _wakeWait).ConfigureAwait(false);
            return await CompleteAsync(first).ConfigureAwait(false);
        }

        var remaining = _flushInterval - _time.GetElapsedTime(_oldestOpenTimestamp);
        if (remaining <= TimeSpan.Zero)
        {
            return WaitResult.Deadline;
        }

        using var deadlineCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var deadline = Task.Delay(remaining, _time, deadlineCancellation.Token);
        Interlocked.Increment(ref _deadlineWaits);
        var finished = await Task.WhenAny(_wakeWait, deadline).ConfigureAwait(false);
        await deadlineCancellation.CancelAsync().ConfigureAwait(false);
        if (finished == deadline)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return WaitResult.Deadline;
        }

        return await CompleteAsync(finished).ConfigureAwait(false);
    }

    private async Task<WaitResult> CompleteAsync(Task finished)
    {
        if (finished == _readWait)
        {
            var readWait = _readWait;
            _readWait = null;
            return await readWait.ConfigureAwait(false) ? WaitResult.Records : WaitResult.Completed;
        }

        _wakeWait = null;
        await finished.ConfigureAwait(false);
        return WaitResult.Flush;
    }
}
