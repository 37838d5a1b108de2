namespace Chroma.Server.Storage;

/// <summary>A record a committed batch stored, with the sequence the store gave it.</summary>
internal readonly record struct InsertedRecord(long Sequence, PreparedRecord Record);

/// <summary>Why the store refused a whole batch (the service turns it into a status).</summary>
internal enum IngestRejectionKind
{
    /// <summary>The batch's dimension differs from the one the set was created with.</summary>
    DimensionMismatch,

    /// <summary>The batch names another metric than the one the set was created with.</summary>
    MetricMismatch,

    /// <summary>An all-zero embedding for a cosine set (it has no direction).</summary>
    ZeroVector,

    /// <summary>A record id is already stored in the set with other content.</summary>
    ConflictingRecord,

    /// <summary>A value the provider cannot hold (PostgreSQL text cannot contain U+0000).</summary>
    UnstorableValue,
}

/// <summary>A refused batch: what kind of problem, a message naming the field, and the offending record.</summary>
/// <param name="Kind">The kind of problem.</param>
/// <param name="Message">Starts with the field path, e.g. <c>records[3].id: ...</c>.</param>
/// <param name="RecordIndex">Index of the offending record, or -1 when the problem is the batch itself.</param>
internal sealed record IngestRejection(IngestRejectionKind Kind, string Message, int RecordIndex = -1)
{
    /// <summary>
    /// Gets every offending record when the problem is in records (an all-zero embedding, an unstorable value), in
    /// index order, the first being this rejection itself; empty for a problem of the batch or set.
    /// </summary>
    public IReadOnlyList<IngestRejection> RecordRejections { get; init; } = [];

    /// <summary>The first of <paramref name="records"/> listing all of them, or null when there are none.</summary>
    public static IngestRejection? Listing(List<IngestRejection>? records) =>
        records is null or [] ? null : records[0] with { RecordRejections = records };
}

/// <summary>What an ingest did: counts when committed, or why nothing was stored.</summary>
internal sealed record IngestOutcome(int Accepted, int Duplicates, IngestRejection? Error)
{
    /// <summary>A rejected batch: nothing stored.</summary>
    public static IngestOutcome Rejected(IngestRejection error) => new(0, 0, error);
}
