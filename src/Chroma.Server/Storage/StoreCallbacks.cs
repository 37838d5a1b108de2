namespace Chroma.Server.Storage;

/// <summary>Runs after a batch commits, while the store still serializes writes (so in commit order).</summary>
internal delegate void RecordsCommitted(StoredEmbeddingSet set, IReadOnlyList<InsertedRecord> inserted);

/// <summary>Runs after a delete commits, while the store still serializes writes.</summary>
internal delegate void RecordsDeleted(StoredEmbeddingSet set, IReadOnlyList<long> sequences);

/// <summary>Receives one stored vector while an index is loaded.</summary>
internal delegate void StoredVectorVisitor(long sequence, ReadOnlySpan<float> vector, string dataset);
