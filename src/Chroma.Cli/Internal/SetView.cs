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
    IReadOnlyList<DriftView> DriftHistory,
    IReadOnlyList<RetentionView> Retention)
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
            [.. info.DriftHistory.Select(DriftView.From)],
            [.. info.Retention.Select(RetentionView.From)]);
    }

    private static string MetricName(DistanceMetric metric) => metric == DistanceMetric.Cosine ? "cosine" : "l2";
}

/// <summary>A retention rule covering a set, with its last run (times in Unix ms; 0: not run yet).</summary>
internal sealed record RetentionView(string Dataset, long MaxAgeMs, long LastRunUnixMs, long LastRunDeleted, long DeletedTotal)
{
    /// <summary>Maps a rule from the wire.</summary>
    public static RetentionView From(RetentionInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return new RetentionView(info.Dataset, info.MaxAgeMs, info.LastRunUnixMs, info.LastRunDeleted, info.DeletedTotal);
    }

    /// <summary>One line for a table: "production &gt; 30d, last run 2026-12-01 10:00 (-12, 340 in all)".</summary>
    public string Describe()
    {
        var age = TimeSpan.FromMilliseconds(MaxAgeMs);
        var ageText = age.TotalDays >= 1 && age.Ticks % TimeSpan.TicksPerDay == 0
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{age.TotalDays:0}d")
            : age.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        var run = LastRunUnixMs == 0
            ? "not run yet"
            : string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"last run {DateTimeOffset.FromUnixTimeMilliseconds(LastRunUnixMs):yyyy-MM-dd HH:mm} (-{LastRunDeleted:N0}, {DeletedTotal:N0} in all)");
        return $"{Dataset} > {ageText}, {run}";
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
