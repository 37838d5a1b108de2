namespace Chroma.Server.Storage;

/// <summary>Which live records a query covers: one dataset (or all) and metadata entries that must all match.</summary>
/// <param name="Dataset">Only this dataset; null for all.</param>
/// <param name="Metadata">Every entry must equal the record's value for that key (AND).</param>
internal sealed record RecordSelection(string? Dataset, IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>Every live record of a set.</summary>
    public static RecordSelection All { get; } = new(null, new Dictionary<string, string>());
}
