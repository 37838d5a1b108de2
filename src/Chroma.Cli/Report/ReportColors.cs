namespace Chroma.Server.Cli.Report;

/// <summary>The report's palette; tests look for these exact colours in the screenshot.</summary>
internal static class ReportColors
{
    /// <summary>Training records.</summary>
    public const string Training = "#1f77b4";

    /// <summary>Production records.</summary>
    public const string Production = "#ff7f0e";

    /// <summary>Records of any other dataset.</summary>
    public const string Other = "#8c8c8c";

    /// <summary>Ring around a recommended record.</summary>
    public const string Recommended = "#d62728";

    /// <summary>The drift line and its markers (filled when p &lt; 0.05).</summary>
    public const string Drift = "#9467bd";

    /// <summary>Gets the fill colour of a dataset.</summary>
    public static string ForDataset(string dataset) => dataset switch
    {
        "training" => Training,
        "production" => Production,
        _ => Other,
    };
}
