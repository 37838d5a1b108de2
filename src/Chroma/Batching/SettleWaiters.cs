namespace Chroma.Batching;

/// <summary>Lets <see cref="ChromaClient.FlushAsync"/> wait until a number of queued records have settled, without polling.</summary>
internal sealed class SettleWaiters
{
    private readonly ClientCounters _counters;
    private readonly List<(long Target, TaskCompletionSource Completion)> _waiters = [];
    private readonly Lock _lock = new();
    private int _count;

    public SettleWaiters(ClientCounters counters)
    {
        _counters = counters;
        counters.Settling += OnSettling;
    }

    public Task WaitAsync(long target, CancellationToken cancellationToken)
    {
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _waiters.Add((target, completion));
            _count = _waiters.Count;
        }

        OnSettling(); // It may have settled before we were listening.
        var waiting = completion.Task.WaitAsync(cancellationToken);
        if (!waiting.IsCompleted)
        {
            // A flush given up by its caller stops waiting: its entry goes too, or flushes bounded by a timeout while the
            // server is down would pile up here until the records they waited for settle.
            _ = waiting.ContinueWith(
                static (_, state) =>
                {
                    var (waiters, given) = ((SettleWaiters, TaskCompletionSource))state!;
                    waiters.Remove(given);
                },
                (this, completion),
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnCanceled | TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }

        return waiting;
    }

    /// <summary>Flushes waiting now (for tests).</summary>
    internal int Count => Volatile.Read(ref _count);

    private void Remove(TaskCompletionSource completion)
    {
        lock (_lock)
        {
            var index = _waiters.FindIndex(w => ReferenceEquals(w.Completion, completion));
            if (index >= 0)
            {
                _waiters.RemoveAt(index);
            }

            _count = _waiters.Count;
        }
    }

    private void OnSettling()
    {
        if (Volatile.Read(ref _count) == 0)
        {
            return;
        }

        var settled = _counters.SettledFromQueue;
        lock (_lock)
        {
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (settled >= _waiters[i].Target || _waiters[i].Completion.Task.IsCompleted)
                {
                    _waiters[i].Completion.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }

            _count = _waiters.Count;
        }
    }
}
