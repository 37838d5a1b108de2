namespace Chroma;

/// <summary>What <see cref="ChromaClient.GetRecommendationsAsync"/> asks for: strategy, filters and paging.</summary>
public sealed class RecommendationQuery
{
    /// <summary>What the ranking favours. The default value is <see cref="RecommendationStrategy.Balanced"/>.</summary>
    public RecommendationStrategy Strategy { get; set; } = RecommendationStrategy.Balanced;

    /// <summary>Only records of this dataset, or <see langword="null"/> (the default) for <see cref="ChromaDatasets.Production"/>.</summary>
    public string? Dataset { get; set; }

    /// <summary>Only records whose metadata has every one of these entries, or <see langword="null"/> (the default).</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; set; }

    /// <summary>
    /// Recommendations per page: 1 to the server's largest page (1000 unless its <c>Limits:MaxPageSize</c> says
    /// otherwise), or 0 for the server's default page of 100. The default value is 20.
    /// </summary>
    public int PageSize { get; set; } = 20;

    /// <summary>The <see cref="RecommendationPage.NextPageToken"/> of the previous page, or <see langword="null"/> for the first.</summary>
    public string? PageToken { get; set; }

    /// <summary>
    /// When <see langword="true"/>, every scored record in descending score order, each with all its
    /// signals, without near-duplicate collapsing or diversity re-ranking: for evaluating the scores.
    /// The default value is <see langword="false"/> (the ranked, spread-out list).
    /// </summary>
    public bool AllScores { get; set; }

    /// <summary>How much the list trades score for spread (ignored with <see cref="AllScores"/>). The default value is <see cref="RecommendationDiversity.Default"/>.</summary>
    public RecommendationDiversity Diversity { get; set; }

    /// <summary>
    /// When <see langword="true"/>, the server waits (up to <see cref="WaitTimeout"/>) until the ranking
    /// covers every record of the set it acknowledged before the call, then answers;
    /// <see cref="RecommendationPage.CoversRequest"/> says whether it got there. Call
    /// <see cref="ChromaClient.FlushAsync"/> first so what you logged is acknowledged. The default value is <see langword="false"/>.
    /// </summary>
    public bool WaitForAcknowledged { get; set; }

    /// <summary>
    /// Wait until the ranking covers every record up to this store sequence (<see cref="ChromaRecord.Sequence"/>), or
    /// <see langword="null"/> (the default) for no such wait.
    /// </summary>
    public long? WaitThroughSequence { get; set; }

    /// <summary>The longest the server waits (at most 10 minutes), or <see langword="null"/> (the default) for 30 seconds.</summary>
    public TimeSpan? WaitTimeout { get; set; }

    /// <summary>Whether records people marked reviewed or dismissed are ranked too. The default value is <see langword="false"/> (they are left out).</summary>
    public bool IncludeReviewed { get; set; }

    /// <summary>Whether the records' embeddings are returned. The default value is <see langword="false"/>.</summary>
    public bool IncludeEmbeddings { get; set; }
}
