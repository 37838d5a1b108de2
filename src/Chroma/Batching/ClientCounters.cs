namespace Chroma.Batching;

/// <summary>The client's record accounting. Lock-free; read by <see cref="ChromaClient.Statistics"/> and the meter.</summary>
internal sealed class ClientCounters
{
    private long _received;
    private long _dropped;
    private long _droppedInvalid;
    private long _exported;
    private long _failed;

    public long Received => Volatile.Read(ref _received);

    public long Dropped => Volatile.Read(ref _dropped);

    public long DroppedInvalid => Volatile.Read(ref _droppedInvalid);

    public long Exported => Volatile.Read(ref _exported);

    public long Failed => Volatile.Read(ref _failed);

    /// <summary>Records held in memory now: queued, in a batch, or awaiting acknowledgement.</summary>
    public long Outstanding => Received - Dropped - Exported - Failed;

    /// <summary>Records that have reached a final state (exported, dropped or failed).</summary>
    public long Settled => Exported + Dropped + Failed;

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

    public void AddExported(long count)
    {
        Interlocked.Add(ref _exported, count);
        Settling?.Invoke();
    }

    public void AddFailed(long count)
    {
        Interlocked.Add(ref _failed, count);
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
