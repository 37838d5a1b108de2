namespace Chroma.Server.Recommendations;

/// <summary>How much the ranked list trades score for spread (mirrors <c>chroma.v1.Diversity</c>).</summary>
internal enum Diversity
{
    /// <summary>
    /// Reorders each consecutive block of <see cref="RecommendationOptions.DiversityWindow"/> records by score
    /// (relevance weight <see cref="RecommendationOptions.DiversityRelevance"/>), never exchanging a record for one
    /// of a later block. The default.
    /// </summary>
    Default = 0,

    /// <summary>Score order (near-duplicates still collapse).</summary>
    Off = 1,

    /// <summary>
    /// Larger blocks (<see cref="RecommendationOptions.StrongDiversityWindow"/>) and a lower
    /// relevance weight (<see cref="RecommendationOptions.StrongDiversityRelevance"/>).
    /// </summary>
    Strong = 2,
}
