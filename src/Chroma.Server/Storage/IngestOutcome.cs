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

/// <summary>Runs after a batch commits, while the store still serializes writes (so in commit order).</summary>
internal delegate void RecordsCommitted(StoredEmbeddingSet set, IReadOnlyList<InsertedRecord> inserted);

/// <summary>Runs after a delete commits, while the store still serializes writes.</summary>
internal delegate void RecordsDeleted(StoredEmbeddingSet set, IReadOnlyList<long> sequences);

/// <summary>Receives one stored vector while an index is loaded.</summary>
internal delegate void StoredVectorVisitor(long sequence, ReadOnlySpan<float> vector, string dataset);
