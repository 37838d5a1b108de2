using System.Diagnostics.Metrics;
using Chroma.Server.Indexing;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Services.Internal;

namespace Chroma.Server.Diagnostics.Internal;

/// <summary>
/// Publishes the server's counters on the <c>Chroma.Server</c> meter (<see cref="ChromaServerDiagnostics"/>, which lists the
/// instruments). Every instrument is observable: it reads counters the server keeps anyway when a listener collects, so
/// ingest and queries pay nothing for metrics. The meter comes from the host's <see cref="IMeterFactory"/>, so servers
/// embedded side by side in one process publish apart (a listener tells them by <see cref="Meter.Scope"/>).
/// </summary>
internal sealed class ServerMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly bool _ownsMeter;

    /// <summary>Creates the instruments.</summary>
    public ServerMetrics(IMeterFactory? meterFactory, BatchIngestor ingestor, EmbeddingSetIndexes indexes, ScoringScheduler scoring)
    {
        ArgumentNullException.ThrowIfNull(ingestor);
        ArgumentNullException.ThrowIfNull(indexes);
        ArgumentNullException.ThrowIfNull(scoring);
        var version = typeof(ServerMetrics).Assembly.GetName().Version?.ToString();
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(ChromaServerDiagnostics.MeterName, version) ?? new Meter(ChromaServerDiagnostics.MeterName, version);

        var counters = ingestor.Counters;
        _meter.CreateObservableCounter(
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
        _meter.CreateObservableUpDownCounter(
            "chroma.server.ingest.pending", () => (long)ingestor.Admission.PendingRecords, "{record}", "Records admitted and not yet committed or refused.");
        _meter.CreateObservableGauge(
            "chroma.server.index.records",
            () => indexes.LoadedStatuses().Select(s => new Measurement<long>(
                s.Status.Count,
                new KeyValuePair<string, object?>("chroma.set", s.SetId),
                new KeyValuePair<string, object?>("chroma.index.kind", KindName(s.Status.Kind)))),
            "{record}",
            "Records a set's index holds (sets whose index is loaded).");
        _meter.CreateObservableGauge(
            "chroma.server.index.graph_records",
            () => indexes.LoadedStatuses().Select(s => new Measurement<long>(
                s.Status.Kind == SetIndexKind.Hnsw ? s.Status.GraphCount : 0,
                new KeyValuePair<string, object?>("chroma.set", s.SetId))),
            "{record}",
            "Records of a set's index linked into its HNSW graph; the rest are searched by a scan until they are.");
        _meter.CreateObservableCounter(
            "chroma.server.index.changes", () => indexes.ChangesApplied, "{change}", "Inserts and deletions the indexes read from the store and applied.");
        _meter.CreateObservableCounter(
            "chroma.server.nearest.behind",
            () => new[]
            {
                new Measurement<long>(indexes.CatchUpTimeouts, new KeyValuePair<string, object?>("chroma.reason", "catch_up_timeout")),
                new Measurement<long>(indexes.FarBehindAnswers, new KeyValuePair<string, object?>("chroma.reason", "far_behind")),
            },
            "{answer}",
            "FindNearest answers without everything committed before the call, by reason.");
        _meter.CreateObservableCounter(
            "chroma.server.scoring.passes", () => (long)scoring.CompletedPasses, "{pass}", "Scoring passes this server finished.");
    }

    /// <summary>Gets the meter (tests tell servers apart by it).</summary>
    public Meter Meter => _meter;

    /// <inheritdoc />
    public void Dispose()
    {
        // A factory's meters are disposed with the factory (the host's container).
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

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
