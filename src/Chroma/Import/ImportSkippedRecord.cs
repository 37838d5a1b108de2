namespace Chroma;

/// <summary>A record an import skipped because the server refused it as invalid (see <see cref="ImportOptions.SkipInvalidRecords"/>).</summary>
public sealed class ImportSkippedRecord
{
    /// <summary>Gets the zero-based index of the record among the records given.</summary>
    public required long Index { get; init; }

    /// <summary>Gets the record's id (the one given, or the one the client made up for it).</summary>
    public required string Id { get; init; }

    /// <summary>Gets the server's reason, naming the field (e.g. <c>records[3].embedding[17]: value is NaN</c>, the index within its batch).</summary>
    public required string Message { get; init; }
}
