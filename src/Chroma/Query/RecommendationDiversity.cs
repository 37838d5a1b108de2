namespace Chroma;

/// <summary>
/// How much a recommendation list trades score for spread. Spreading reorders consecutive blocks of records by
/// score and never exchanges a record for one from a later block, so a list of whole blocks (the top 100 in every
/// mode) holds exactly the top records by score; near-duplicates are collapsed in every mode.
/// </summary>
public enum RecommendationDiversity
{
    /// <summary>Reorders each block of 10 records by score (relevance weight 0.7). The default.</summary>
    Default = 0,

    /// <summary>Plain score order.</summary>
    Off = 1,

    /// <summary>Reorders each block of 50 records by score (relevance weight 0.4).</summary>
    Strong = 2,
}
