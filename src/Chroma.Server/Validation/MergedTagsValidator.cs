using Chroma.Server.Storage;

namespace Chroma.Server.Validation;

/// <summary>
/// The metadata limit for a tag request holds for each merged record, not only for the request: a record tagged past
/// <see cref="LimitsOptions.MaxMetadataEntries"/> could not be logged again as it is stored. Used by TagRecords and
/// Chroma Studio's tag action.
/// </summary>
internal static class MergedTagsValidator
{
    /// <summary>The first record of <paramref name="ids"/> that <paramref name="tags"/> would take past the entry limit, as an error; null when none.</summary>
    public static ValidationError? Validate(
        IRecordStore store, StoredEmbeddingSet set, IReadOnlyList<string> ids, IReadOnlyDictionary<string, string> tags, LimitsOptions limits)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(tags);
        ArgumentNullException.ThrowIfNull(limits);
        foreach (var record in store.GetRecordsByIds(set, ids, includeEmbeddings: false))
        {
            var metadata = record.Record.Metadata;
            var merged = metadata.Count + tags.Keys.Count(k => !metadata.ContainsKey(k));
            if (merged > limits.MaxMetadataEntries)
            {
                return ValidationError.Invalid(FormattableString.Invariant(
                    $"tags: record {record.Record.Id} would hold {merged} metadata entries, limit {limits.MaxMetadataEntries} (Chroma:Limits:MaxMetadataEntries); nothing was tagged"));
            }
        }

        return null;
    }
}
