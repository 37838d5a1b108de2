using System.Diagnostics.Metrics;
using Chroma.Server.Indexing;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Services.Internal;

namespace Chroma.Server.Diagnostics.Internal;

/// <summary>
/// Publishes the server's counters on the <c>Chroma.Server</c> meter (<see cref="ChromaServerDiagnostics"/>, which lists the
/// instruments). The counters and gauges are observable: they read counters the server keeps anyway when a listener
/// collects. The two histograms are recorded as batches are answered and queries wait (a few hundred nanoseconds, nothing
/// while no listener is attached). The meter comes from the host's <see cref="IMeterFactory"/>, so servers
/// embedded side by side in one process publish apart (a listener tells them by <see cref="Meter.Scope"/>).
/// </summary>
internal sealed class ServerMetrics : IDisposable
{
    private readonly IngestCounters _ingestCounters;
    private readonly EmbeddingSetIndexes _indexes;
    private readonly Histogram<double> _batchDuration;
    private readonly Histogram<double> _catchUpDuration;

    /// <summary>Creates the instruments.</summary>
    public ServerMetrics(IMeterFactory meterFactory, BatchIngestor ingestor, EmbeddingSetIndexes indexes, ScoringScheduler scoring)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(ingestor);
        ArgumentNullException.ThrowIfNull(indexes);
        ArgumentNullException.ThrowIfNull(scoring);
        var meter = meterFactory.Create(ChromaServerDiagnostics.MeterName, typeof(ServerMetrics).Assembly.GetName().Version?.ToString());

        var counters = ingestor.Counters;
        _ingestCounters = counters;
        _indexes = indexes;

        // Push instruments (one value per batch, per wait): percentiles need every observation.
        _batchDuration = meter.CreateHistogram<double>(
            "chroma.server.ingest.batch.duration", "s", "Time from a batch's arrival at the server's ingestor to its ack, by outcome (stored or refused).");
        _catchUpDuration = meter.CreateHistogram<double>(
            "chroma.server.nearest.catch_up.duration", "s", "Time a FindNearest waited for the index to take in what was committed before it, by outcome (caught up or behind).");
        counters.BatchAnswered += RecordBatch;
        indexes.CatchUpWaited += RecordCatchUp;
        meter.CreateObservableCounter(
            "chroma.server.ingest.records",
            () => new[]
            {
                Outcome(counters.Stored, "stored"),
                Outcome(counters.Duplicates, "duplicate"),
                Outcome(counters.Rejected, "rejected"),
                Outcome(counters.Shed, "shed"),
                Outcome(counters.StorageFull, "storage_full"),
            },
            "{record}",
            "Records of the batches this server answered, by outcome.");
        meter.CreateObservableUpDownCounter(
            "chroma.server.ingest.pending", () => (long)ingestor.Admission.PendingRecords, "{record}", "Records admitted and not yet committed or refused.");
        meter.CreateObservableGauge(
            "chroma.server.index.records",
            () => indexes.LoadedStatuses().Select(s => new Measurement<long>(
                s.Status.Count,
                new KeyValuePair<string, object?>("chroma.set", s.SetId),
                new KeyValuePair<string, object?>("chroma.index.kind", KindName(s.Status.Kind)))),
            "{record}",
            "Records a set's index holds (sets whose index is loaded).");
        meter.CreateObservableGauge(
            "chroma.server.index.graph_records",
            () => indexes.LoadedStatuses().Select(s => new Measurement<long>(
                s.Status.Kind == SetIndexKind.Hnsw ? s.Status.GraphCount : 0,
                new KeyValuePair<string, object?>("chroma.set", s.SetId))),
            "{record}",
            "Records of a set's index linked into its HNSW graph; the rest are searched by a scan until they are.");
        meter.CreateObservableCounter(
            "chroma.server.index.changes", () => indexes.ChangesApplied, "{change}", "Inserts and deletions the indexes read from the store and applied.");
        meter.CreateObservableCounter(
            "chroma.server.nearest.behind",
            () => new[]
            {
                new Measurement<long>(indexes.CatchUpTimeouts, new KeyValuePair<string, object?>("chroma.reason", "catch_up_timeout")),
                new Measurement<long>(indexes.FarBehindAnswers, new KeyValuePair<string, object?>("chroma.reason", "far_behind")),
            },
            "{answer}",
            "FindNearest answers without everything committed before the call, by reason.");
        meter.CreateObservableCounter(
            "chroma.server.scoring.passes", () => (long)scoring.CompletedPasses, "{pass}", "Scoring passes this server finished.");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // The meter itself is disposed with its factory (the host's container).
        _ingestCounters.BatchAnswered -= RecordBatch;
        _indexes.CatchUpWaited -= RecordCatchUp;
    }

    private void RecordBatch(double seconds, bool stored) =>
        _batchDuration.Record(seconds, new KeyValuePair<string, object?>("chroma.outcome", stored ? "stored" : "refused"));

    private void RecordCatchUp(double seconds, bool caughtUp) =>
        _catchUpDuration.Record(seconds, new KeyValuePair<string, object?>("chroma.outcome", caughtUp ? "caught_up" : "behind"));

    private static Measurement<long> Outcome(long value, string outcome) =>
        new(value, new KeyValuePair<string, object?>("chroma.outcome", outcome));

    private static string KindName(SetIndexKind kind) => kind switch
    {
        SetIndexKind.Exact => "exact",
        SetIndexKind.Building => "building",
        SetIndexKind.Hnsw => "hnsw",
        _ => kind.ToString().ToLowerInvariant(),
    };
}
