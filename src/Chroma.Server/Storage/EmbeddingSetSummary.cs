namespace Chroma.Server.Storage;

/// <summary>A set with its live (not deleted) record counts per dataset.</summary>
internal sealed record EmbeddingSetSummary(
    StoredEmbeddingSet Set,
    IReadOnlyList<KeyValuePair<string, long>> DatasetCounts,
    long CreatedUnixMs,
    long UpdatedUnixMs)
{
    /// <summary>Gets the live records over all datasets.</summary>
    public long TotalRecords => DatasetCounts.Sum(c => c.Value);
}
