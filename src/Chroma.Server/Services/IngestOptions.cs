namespace Chroma.Server.Services;

/// <summary>
/// How the server takes ingest streams (section <c>Chroma:Ingest</c>, e.g. <c>Chroma__Ingest__MaxPendingRecords</c>):
/// how much may wait for commit, what a shed batch is told, and when an idle stream is closed.
/// </summary>
public sealed class IngestOptions
{
    /// <summary>The configuration section, below <c>Chroma</c>.</summary>
    public const string SectionName = "Ingest";

    /// <summary>
    /// Gets or sets the most records that may wait in the ingest queue (received, not yet committed) across all
    /// streams (1..10 000 000). A batch that would go past it is answered at once with a <c>ResourceExhausted</c>
    /// error carrying <see cref="RetryAfter"/>, and nothing of it is stored; the client waits and sends it again. A
    /// batch is always taken when the queue is empty, so one larger than this limit still gets through. Memory held
    /// by waiting batches is about this many records x (dimension x 4 bytes + metadata): some 30 MiB at 128-d with
    /// the default. The default value is 50 000.
    /// </summary>
    public int MaxPendingRecords { get; set; } = 50_000;

    /// <summary>
    /// Gets or sets how long a client is asked to wait before re-sending a batch the server shed because its ingest
    /// queue was full (1 ms to 1 minute). The default value is 100 ms.
    /// </summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Gets or sets how long an ingest stream may stay open with no batch arriving and none waiting for its ack before
    /// the server closes it with <c>Unavailable</c> (the SDK opens a new one when it next has a batch); 0 to 1 day,
    /// <see cref="TimeSpan.Zero"/> keeps idle streams open. The default value is 5 minutes.
    /// </summary>
    public TimeSpan StreamIdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Copies these options.</summary>
    internal IngestOptions Clone() => (IngestOptions)MemberwiseClone();
}
