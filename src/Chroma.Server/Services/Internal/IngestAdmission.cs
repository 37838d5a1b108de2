namespace Chroma.Server.Services.Internal;

/// <summary>
/// Bounds the records waiting for the group-commit writer across all ingest streams, so a burst of
/// clients makes the server shed load (<c>ResourceExhausted</c>, the client retries later) instead
/// of queueing without limit and running out of memory.
/// </summary>
internal sealed class IngestAdmission
{
    private readonly int _maxPendingRecords;
    private int _pendingRecords;
    private long _shedBatches;

    /// <summary>Creates a gate that admits up to <paramref name="maxPendingRecords"/> waiting records.</summary>
    public IngestAdmission(int maxPendingRecords)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPendingRecords, 1);
        _maxPendingRecords = maxPendingRecords;
    }

    /// <summary>Gets the records admitted and not yet committed or rejected.</summary>
    public int PendingRecords => Volatile.Read(ref _pendingRecords);

    /// <summary>Gets how many batches were shed because the queue was full (read by tests and diagnostics).</summary>
    public long ShedBatches => Interlocked.Read(ref _shedBatches);

    /// <summary>
    /// Reserves room for <paramref name="records"/>; false (and counted as shed) when that would go past
    /// the limit. An empty queue always admits, so a batch larger than the limit is not refused forever.
    /// </summary>
    public bool TryAdmit(int records)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(records);
        var current = Volatile.Read(ref _pendingRecords);
        while (true)
        {
            if (current > 0 && (long)current + records > _maxPendingRecords)
            {
                Interlocked.Increment(ref _shedBatches);
                return false;
            }

            var seen = Interlocked.CompareExchange(ref _pendingRecords, current + records, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }
    }

    /// <summary>Gives back room reserved by <see cref="TryAdmit"/> once the batch is settled.</summary>
    public void Release(int records) => Interlocked.Add(ref _pendingRecords, -records);
}
