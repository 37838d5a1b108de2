namespace Chroma;

/// <summary>
/// How much a recommendation list trades score for spread. Spreading only ever chooses among the
/// next few records by score, so it never fills the list with ordinary inputs from far down the
/// ranking; near-duplicates are collapsed in every mode.
/// </summary>
public enum RecommendationDiversity
{
    /// <summary>Each pick chooses among the next 10 records by score (relevance weight 0.7). The default.</summary>
    Default = 0,

    /// <summary>Plain score order.</summary>
    Off = 1,

    /// <summary>Each pick chooses among the next 50 records by score (relevance weight 0.4).</summary>
    Strong = 2,
}
