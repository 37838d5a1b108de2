namespace Chroma.Server.Diagnostics;

/// <summary>
/// The names the server publishes metrics under, for OpenTelemetry's <c>AddMeter</c>
/// (<c>builder.WithMetrics(m =&gt; m.AddMeter(ChromaServerDiagnostics.MeterName))</c>) or
/// <c>dotnet-counters monitor --counters Chroma.Server</c>.
/// </summary>
/// <remarks>
/// Instruments (the counters and gauges are observable, read when collected; the two histograms are recorded per batch
/// and per wait, and cost nothing while no listener is attached):
/// <list type="table">
/// <item><term><c>chroma.server.ingest.records</c></term><description>counter, <c>{record}</c>: records of the batches this server answered, by
/// <c>chroma.outcome</c>: <c>stored</c>, <c>duplicate</c> (already stored, not stored again), <c>rejected</c> (invalid; nothing of
/// the batch stored), <c>shed</c> (the ingest queue was full), <c>storage_full</c> (the disk was full).</description></item>
/// <item><term><c>chroma.server.ingest.batch.duration</c></term><description>histogram, <c>s</c>: from a batch's arrival at the
/// ingestor to its ack (validation, the queue for the group commit, the commit), by <c>chroma.outcome</c>: <c>stored</c>
/// (duplicates included) or <c>refused</c>.</description></item>
/// <item><term><c>chroma.server.ingest.pending</c></term><description>up-down counter, <c>{record}</c>: records admitted and not yet
/// committed or refused.</description></item>
/// <item><term><c>chroma.server.index.records</c></term><description>gauge, <c>{record}</c>: records a set's index holds, by
/// <c>chroma.set</c> and <c>chroma.index.kind</c> (<c>exact</c>, <c>building</c>, <c>hnsw</c>); sets whose index is loaded.</description></item>
/// <item><term><c>chroma.server.index.graph_records</c></term><description>gauge, <c>{record}</c>: of those, the records linked into
/// the HNSW graph (the rest are searched by a scan until they are), by <c>chroma.set</c>.</description></item>
/// <item><term><c>chroma.server.index.changes</c></term><description>counter, <c>{change}</c>: inserts and deletions the indexes
/// read from the store and applied.</description></item>
/// <item><term><c>chroma.server.nearest.behind</c></term><description>counter, <c>{answer}</c>: FindNearest answers without
/// everything committed before the call, by <c>chroma.reason</c>: <c>catch_up_timeout</c> (the wait for the index ran out) or
/// <c>far_behind</c> (ingest outran the index, the query did not wait).</description></item>
/// <item><term><c>chroma.server.nearest.catch_up.duration</c></term><description>histogram, <c>s</c>: how long a FindNearest
/// waited for the index to take in what was committed before it (read-your-writes; only calls that had to wait), by
/// <c>chroma.outcome</c>: <c>caught_up</c> or <c>behind</c>.</description></item>
/// <item><term><c>chroma.server.scoring.passes</c></term><description>counter, <c>{pass}</c>: scoring passes this server
/// finished.</description></item>
/// </list>
/// Request counts and durations per gRPC method are ASP.NET Core's own (meter <c>Microsoft.AspNetCore.Hosting</c>,
/// <c>http.server.request.duration</c> with <c>http.route</c>).
/// </remarks>
public static class ChromaServerDiagnostics
{
    /// <summary>The meter with the server's ingest, index and scoring instruments: <c>Chroma.Server</c>.</summary>
    public const string MeterName = "Chroma.Server";
}
