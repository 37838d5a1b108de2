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
    IReadOnlyList<RetentionView> Retention,
    ScoringFailureView? ScoringFailure,
    string? IndexBuildFailure)
{
    /// <summary>Maps a set the client listed.</summary>
    public static SetView From(EmbeddingSetInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var descriptor = info.Descriptor;
        return new SetView(
            info.SetId,
            descriptor.Model,
            descriptor.ModelVersion,
            descriptor.Layer,
            descriptor.Dimension,
            MetricText.Of(descriptor.Metric),
            info.TotalRecords,
            info.Datasets.ToDictionary(d => d.Dataset, d => d.Count, StringComparer.Ordinal),
            info.Created.ToUnixTimeMilliseconds(),
            info.Updated.ToUnixTimeMilliseconds(),
            info.Drift is null ? null : DriftView.From(info.Drift),
            [.. info.DriftHistory.Select(DriftView.From)],
            [.. info.Retention.Select(RetentionView.From)],
            ScoringFailureView.From(info.LastScoringFailure),
            info.Index?.BuildFailure is { } failure
                ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{info.Index.BuildFailedAt:yyyy-MM-dd HH:mm:ss} UTC: {failure}")
                : null);
    }
}

/// <summary>A retention rule covering a set, with its last run (times in Unix ms; 0: not run yet).</summary>
internal sealed record RetentionView(string Dataset, long MaxAgeMs, long LastRunUnixMs, long LastRunDeleted, long DeletedTotal)
{
    /// <summary>Maps a rule the client listed.</summary>
    public static RetentionView From(EmbeddingSetRetention info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return new RetentionView(info.Dataset, (long)info.MaxAge.TotalMilliseconds, info.LastRun?.ToUnixTimeMilliseconds() ?? 0, info.LastRunDeleted, info.DeletedTotal);
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
}

/// <summary>One drift measurement of the server (training against recent production).</summary>
internal sealed record DriftView(double Mmd2, double PValue, long ComputedUnixMs, int TrainingSample, int ProductionSample)
{
    /// <summary>Maps a measurement the client listed.</summary>
    public static DriftView From(EmbeddingSetDrift drift)
    {
        ArgumentNullException.ThrowIfNull(drift);
        return new DriftView(drift.Mmd2, drift.PValue, drift.ComputedAt.ToUnixTimeMilliseconds(), drift.TrainingSample, drift.ProductionSample);
    }
}
