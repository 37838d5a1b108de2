using Chroma.Server.Storage;

namespace Chroma.Server.Cli.Internal;

/// <summary>
/// How the CLI spells a set's distance metric: <c>l2</c> or <c>cosine</c>, in tables, JSON and export files alike, as
/// the server stores it (<see cref="SetMetrics"/>'s names; that type's methods take the server's own protocol types).
/// </summary>
internal static class MetricText
{
    /// <summary>The spellings <see cref="TryParse"/> takes, for messages.</summary>
    public const string Choices = "l2 or cosine";

    /// <summary>The spelling of <paramref name="metric"/> (a set the server lists is L2 or cosine; an older server's is L2).</summary>
    public static string Of(DistanceMetric metric) => metric == DistanceMetric.Cosine ? SetMetrics.CosineName : SetMetrics.L2Name;

    /// <summary>Reads <c>l2</c> or <c>cosine</c> (any case); false for anything else.</summary>
    public static bool TryParse(string? text, out DistanceMetric metric)
    {
        metric = text?.ToLowerInvariant() switch
        {
            SetMetrics.L2Name => DistanceMetric.L2,
            SetMetrics.CosineName => DistanceMetric.Cosine,
            _ => DistanceMetric.Unspecified,
        };
        return metric != DistanceMetric.Unspecified;
    }
}
