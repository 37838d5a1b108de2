using Chroma.Protocol.V1;

namespace Chroma.Server.Cli.Internal;

/// <summary>An embedding set as the CLI prints it.</summary>
internal sealed record SetView(
    string SetId,
    string Model,
    string ModelVersion,
    string Layer,
    int Dimension,
    string Metric,
    long TotalRecords,
    IReadOnlyDictionary<string, long> Datasets,
    long CreatedUnixMs,
    long UpdatedUnixMs,
    DriftView? Drift,
    IReadOnlyList<DriftView> DriftHistory)
{
    /// <summary>Maps a set from the wire.</summary>
    public static SetView From(EmbeddingSetInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var descriptor = info.Descriptor_ ?? new EmbeddingSetDescriptor();
        return new SetView(
            info.SetId,
            descriptor.Model,
            descriptor.ModelVersion,
            descriptor.Layer,
            descriptor.Dimension,
            MetricName(info.Metric != DistanceMetric.Unspecified ? info.Metric : descriptor.Metric),
            info.TotalRecords,
            info.Datasets.ToDictionary(d => d.Dataset, d => d.Count, StringComparer.Ordinal),
            info.CreatedUnixMs,
            info.UpdatedUnixMs,
            info.Drift is null ? null : DriftView.From(info.Drift),
            [.. info.DriftHistory.Select(DriftView.From)]);
    }

    // A server from before sets had a metric reports none: its sets are L2.
    private static string MetricName(DistanceMetric metric) => metric == DistanceMetric.Cosine ? "cosine" : "l2";
}

/// <summary>One drift measurement of the server (training against recent production).</summary>
internal sealed record DriftView(double Mmd2, double PValue, long ComputedUnixMs, int TrainingSample, int ProductionSample)
{
    /// <summary>Maps a measurement from the wire.</summary>
    public static DriftView From(Drift drift)
    {
        ArgumentNullException.ThrowIfNull(drift);
        return new DriftView(drift.Mmd2, drift.PValue, drift.ComputedUnixMs, drift.TrainingSample, drift.ProductionSample);
    }
}
