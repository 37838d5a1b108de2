namespace Chroma.Server.Recommendations.Serving;

/// <summary>One page of recommendations, already validated.</summary>
/// <param name="Strategy">What the ranking favours.</param>
/// <param name="Dataset">Only records of this dataset.</param>
/// <param name="Metadata">Only records whose metadata has every entry.</param>
/// <param name="AllScores">Every scored record by score, no collapsing or diversity.</param>
/// <param name="Offset">Entries to skip.</param>
/// <param name="PageSize">Entries to return.</param>
/// <param name="Diversity">How much spread the ranked list trades for score.</param>
internal sealed record RecommendationPageRequest(
    RecommendationStrategy Strategy,
    string Dataset,
    IReadOnlyDictionary<string, string> Metadata,
    bool AllScores,
    int Offset,
    int PageSize,
    Diversity Diversity = Diversity.Default)
{
    /// <summary>The largest page a request may ask for (GetRecommendations' page_size is 1..1000).</summary>
    public const int MaxPageSize = 1_000;

    /// <summary>Gets the records to leave out (reviewed or dismissed) with their version, or null to leave none out.</summary>
    public Labeling.ReviewedSnapshot? Excluded { get; init; }

    /// <summary>
    /// Gets the records the metadata filter matched when the listing's first page was served (the later pages rank the
    /// same records while tags change), or null to read them from the store.
    /// </summary>
    public IReadOnlySet<long>? Matching { get; init; }
}

/// <summary>A page of ranked entries.</summary>
/// <param name="Items">The entries of the page, best first, with the store sequence of each.</param>
/// <param name="Total">How many entries the whole ranking holds (a lower bound while it is cut short).</param>
/// <param name="HasMore">Whether entries follow this page.</param>
/// <param name="Scored">Scored records of the dataset.</param>
internal sealed record RecommendationPageResult(IReadOnlyList<(long Sequence, Recommendation Item)> Items, long Total, bool HasMore, long Scored);
