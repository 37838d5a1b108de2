using Grpc.Core;

namespace Chroma.Server.Cli.Internal;

/// <summary>
/// Asks the server for recommendations and tells apart "not offered" (a server without the
/// engine answers Unimplemented; a set without training data, FailedPrecondition) from real errors.
/// </summary>
internal static class RecommendationSource
{
    /// <summary>Gets the recommendations, or <see langword="null"/> with the server's reason when it does not offer them.</summary>
    public static async Task<(RecommendationPage? Page, string? Unavailable)> TryGetAsync(
        CliContext context,
        string setId,
        RecommendationQuery query,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            var page = await context.Client.GetRecommendationsAsync(setId, query, cancellationToken).ConfigureAwait(false);
            return (page, null);
        }
        catch (ChromaException ex) when (ex.StatusCode is StatusCode.Unimplemented or StatusCode.FailedPrecondition)
        {
            return (null, $"{ex.StatusCode}: {ex.Message}");
        }
    }

    /// <summary>Parses <c>--strategy</c> (balanced, ood, uncertainty, labeling).</summary>
    public static RecommendationStrategy ParseStrategy(string? text) => text switch
    {
        null or "" or "balanced" => RecommendationStrategy.Balanced,
        "ood" or "out-of-distribution" or "out_of_distribution" => RecommendationStrategy.OutOfDistribution,
        "uncertainty" => RecommendationStrategy.Uncertainty,
        "labeling" => RecommendationStrategy.Labeling,
        _ => throw new CliUsageException($"--strategy must be balanced, ood, uncertainty or labeling (got '{text}')"),
    };
}
