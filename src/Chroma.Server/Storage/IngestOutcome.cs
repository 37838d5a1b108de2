using Chroma.Server.Validation;

namespace Chroma.Server.Storage;

/// <summary>A record a committed batch stored, with the sequence the store gave it.</summary>
internal readonly record struct InsertedRecord(long Sequence, PreparedRecord Record);

/// <summary>What an ingest did: counts when committed, or why nothing was stored.</summary>
internal sealed record IngestOutcome(int Accepted, int Duplicates, ValidationError? Error)
{
    /// <summary>A rejected batch: nothing stored.</summary>
    public static IngestOutcome Rejected(ValidationError error) => new(0, 0, error);
}
