namespace Chroma;

/// <summary>A retention rule of the server that covers a set (records of a dataset older than a maximum age are deleted), with its last run.</summary>
public sealed class EmbeddingSetRetention
{
    /// <summary>Gets the dataset the rule deletes from.</summary>
    public required string Dataset { get; init; }

    /// <summary>Gets the age beyond which the rule deletes a record.</summary>
    public required TimeSpan MaxAge { get; init; }

    /// <summary>Gets when the rule last ran on this set, or <see langword="null"/> (the default) when it has not run yet.</summary>
    public DateTimeOffset? LastRun { get; init; }

    /// <summary>Gets how many records the last run deleted. The default value is 0.</summary>
    public long LastRunDeleted { get; init; }

    /// <summary>Gets how many records every run so far deleted. The default value is 0.</summary>
    public long DeletedTotal { get; init; }
}
