namespace Chroma;

/// <summary>What <see cref="ChromaClient.GetRecordsAsync"/> returns: filters and paging.</summary>
public sealed class RecordQuery
{
    /// <summary>Only this dataset, or <see langword="null"/> (the default) for all.</summary>
    public string? Dataset { get; set; }

    /// <summary>Only records whose metadata has every one of these entries, or <see langword="null"/> (the default).</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; set; }

    /// <summary>Records per page, 1-1000. The default value is 100.</summary>
    public int PageSize { get; set; } = 100;

    /// <summary>The <see cref="RecordPage.NextPageToken"/> of the previous page, or <see langword="null"/> for the first.</summary>
    public string? PageToken { get; set; }

    /// <summary>Whether embeddings are returned (they dominate the size). The default value is <see langword="false"/>.</summary>
    public bool IncludeEmbeddings { get; set; }

    /// <summary>When set, exactly these records (paging ignored); an unknown id answers NotFound.</summary>
    public IReadOnlyCollection<string>? Ids { get; set; }
}

/// <summary>One page of records.</summary>
public sealed class RecordPage
{
    /// <summary>The records, in ingest order.</summary>
    public required IReadOnlyList<ChromaRecord> Records { get; init; }

    /// <summary>The token for the next page, or <see langword="null"/> (the default) on the last page.</summary>
    public string? NextPageToken { get; init; }
}
