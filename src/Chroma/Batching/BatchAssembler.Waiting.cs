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
    /// Waits for a record, a flush request or (when a batch is open) its deadline. The pending read and wake tasks are
    /// kept across calls so no waiter is abandoned.
    /// </summary>
    private async Task<WaitResult> WaitAsync(CancellationToken cancellationToken)
    {
        _readWait ??= _records.WaitToReadAsync(cancellationToken).AsTask();
        _wakeWait ??= _wake.WaitAsync(cancellationToken);

        Task? deadline = null;
        using var deadlineCancellation = _open.Count > 0 ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken) : null;
        if (deadlineCancellation is not null)
        {
            var remaining = _flushInterval - _time.GetElapsedTime(_oldestOpenTimestamp);
            if (remaining <= TimeSpan.Zero)
            {
                return WaitResult.Deadline;
            }

            deadline = Task.Delay(remaining, _time, deadlineCancellation.Token);
        }

        var finished = deadline is null
            ? await Task.WhenAny(_readWait, _wakeWait).ConfigureAwait(false)
            : await Task.WhenAny(_readWait, _wakeWait, deadline).ConfigureAwait(false);
        deadlineCancellation?.Cancel();

        if (finished == _readWait)
        {
            var readWait = _readWait;
            _readWait = null;
            return await readWait.ConfigureAwait(false) ? WaitResult.Records : WaitResult.Completed;
        }

        if (finished == _wakeWait)
        {
            _wakeWait = null;
            await finished.ConfigureAwait(false);
            return WaitResult.Flush;
        }

        await finished.ConfigureAwait(false);
        return WaitResult.Deadline;
    }
}
