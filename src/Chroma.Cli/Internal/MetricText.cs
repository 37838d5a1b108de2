namespace Chroma.Server.Cli.Internal;

/// <summary>How the CLI spells a set's distance metric: <c>l2</c> or <c>cosine</c>, in tables, JSON and export files alike.</summary>
internal static class MetricText
{
    /// <summary>The spellings <see cref="TryParse"/> takes, for messages.</summary>
    public const string Choices = "l2 or cosine";

    /// <summary>The spelling of <paramref name="metric"/> (a set the server lists is L2 or cosine; an older server's is L2).</summary>
    public static string Of(DistanceMetric metric) => metric == DistanceMetric.Cosine ? "cosine" : "l2";

    /// <summary>Reads <c>l2</c> or <c>cosine</c> (any case); false for anything else.</summary>
    public static bool TryParse(string? text, out DistanceMetric metric)
    {
        metric = text?.ToLowerInvariant() switch
        {
            "l2" => DistanceMetric.L2,
            "cosine" => DistanceMetric.Cosine,
            _ => DistanceMetric.Unspecified,
        };
        return metric != DistanceMetric.Unspecified;
    }
}
