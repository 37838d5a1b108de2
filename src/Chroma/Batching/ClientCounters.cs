namespace Chroma.Batching;

/// <summary>The client's record accounting. Lock-free; read by <see cref="ChromaClient.Statistics"/> and the meter.</summary>
internal sealed class ClientCounters
{
    private long _received;
    private long _dropped;
    private long _droppedInvalid;
    private long _exported;
    private long _failed;
    private long _enqueued;
    private long _settledFromQueue;

    public long Received => Volatile.Read(ref _received);

    public long Dropped => Volatile.Read(ref _dropped);

    public long DroppedInvalid => Volatile.Read(ref _droppedInvalid);

    public long Exported => Volatile.Read(ref _exported);

    public long Failed => Volatile.Read(ref _failed);

    /// <summary>Records held in memory now: queued, in a batch, or awaiting acknowledgement.</summary>
    public long Outstanding => Received - Dropped - Exported - Failed;

    /// <summary>Records written to the queue (those dropped before it, as refused or for a full queue, are not).</summary>
    public long Enqueued => Volatile.Read(ref _enqueued);

    /// <summary>
    /// Queued records that have reached a final state (exported, failed, or dropped as invalid by the batcher). A flush
    /// waits on this, not on every settled record: records dropped before the queue while it waits (the queue is full)
    /// must not stand in for the queued records it waits for.
    /// </summary>
    public long SettledFromQueue => Volatile.Read(ref _settledFromQueue);

    /// <summary>Raised after records settle, so flushes waiting on them can complete.</summary>
    public event Action? Settling;

    /// <summary>Raised with the time from a batch's latest write to its ack, in milliseconds (feeds the meter's histogram).</summary>
    public event Action<double>? AckLatencyObserved;

    public void RecordAckLatency(TimeSpan latency) => AckLatencyObserved?.Invoke(latency.TotalMilliseconds);

    public void AddReceived() => Interlocked.Increment(ref _received);

    public void AddDropped()
    {
        Interlocked.Increment(ref _dropped);
        Settling?.Invoke();
    }

    public void AddDroppedInvalid()
    {
        Interlocked.Increment(ref _droppedInvalid);
        AddDropped();
    }

    /// <summary>A record written to the queue.</summary>
    public void AddEnqueued() => Interlocked.Increment(ref _enqueued);

    /// <summary>A queued record the batcher found invalid: dropped (and invalid), and settled as far as a flush is concerned.</summary>
    public void AddDroppedInvalidFromQueue()
    {
        Interlocked.Increment(ref _settledFromQueue);
        AddDroppedInvalid();
    }

    public void AddExported(long count)
    {
        Interlocked.Add(ref _exported, count);
        Interlocked.Add(ref _settledFromQueue, count);
        Settling?.Invoke();
    }

    public void AddFailed(long count)
    {
        Interlocked.Add(ref _failed, count);
        Interlocked.Add(ref _settledFromQueue, count);
        Settling?.Invoke();
    }

    public ChromaStatistics Snapshot()
    {
        var exported = Exported;
        var failed = Failed;
        var dropped = Dropped;
        var received = Received;
        return new ChromaStatistics(received, dropped, DroppedInvalid, exported, failed, Math.Max(0, received - dropped - exported - failed));
    }
}
