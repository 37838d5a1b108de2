namespace Chroma.Server.Cli.Report;

/// <summary>One record in the picture: its projected position and, when recommended, its rank and reasons.</summary>
internal sealed record ReportPoint(
    string Id,
    string Dataset,
    double X,
    double Y,
    string? Label,
    string? PredictedClass,
    string? InputUri,
    int? RecommendationRank,
    IReadOnlyList<string> Reasons);

/// <summary>Drift of one window of production records (by capture time) against training.</summary>
internal sealed record DriftWindow(long StartUnixMs, long EndUnixMs, int Records, double Mmd2, double PValue);

/// <summary>Everything the HTML report shows.</summary>
internal sealed record ReportModel(
    string SetId,
    int Dimension,
    long TotalRecords,
    IReadOnlyList<ReportPoint> Points,
    IReadOnlyList<double> ComponentVariances,
    IReadOnlyList<DriftWindow> Drift,
    string? RecommendationsNote,
    string? DriftNote,
    DateTimeOffset GeneratedAt);
