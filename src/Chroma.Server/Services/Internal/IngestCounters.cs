namespace Chroma.Server.Services.Internal;

/// <summary>
/// Records of the batches the server answered, by outcome, counted as the acks are made (read by the server's
/// metrics, <see cref="Diagnostics.ChromaServerDiagnostics"/>).
/// </summary>
internal sealed class IngestCounters
{
    private long _stored;
    private long _duplicates;
    private long _rejected;
    private long _shed;
    private long _storageFull;

    /// <summary>Gets the records stored.</summary>
    public long Stored => Interlocked.Read(ref _stored);

    /// <summary>Gets the records already stored (or stored and since deleted), not stored again.</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>Gets the records of rejected batches (invalid input).</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Gets the records of batches shed because the ingest queue was full.</summary>
    public long Shed => Interlocked.Read(ref _shed);

    /// <summary>Gets the records of batches refused because the disk was full.</summary>
    public long StorageFull => Interlocked.Read(ref _storageFull);

    /// <summary>
    /// Raised for each batch answered: the seconds from its arrival at the ingestor to its ack, and whether it was stored
    /// (an ack without an error, duplicates included) or refused.
    /// </summary>
    public event Action<double, bool>? BatchAnswered;

    /// <summary>Raises <see cref="BatchAnswered"/> for a batch that arrived at <paramref name="startTimestamp"/> (<see cref="System.Diagnostics.Stopwatch"/>).</summary>
    public void Answered(long startTimestamp, bool stored) =>
        BatchAnswered?.Invoke(System.Diagnostics.Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, stored);

    /// <summary>Counts a stored batch.</summary>
    public void AddStored(int stored, int duplicates)
    {
        Interlocked.Add(ref _stored, stored);
        Interlocked.Add(ref _duplicates, duplicates);
    }

    /// <summary>Counts the records of a rejected batch.</summary>
    public void AddRejected(int records) => Interlocked.Add(ref _rejected, records);

    /// <summary>Counts the records of a shed batch.</summary>
    public void AddShed(int records) => Interlocked.Add(ref _shed, records);

    /// <summary>Counts the records of a batch refused for a full disk.</summary>
    public void AddStorageFull(int records) => Interlocked.Add(ref _storageFull, records);
}
