namespace Chroma.Server.Storage;

/// <summary>
/// Side effects of a committed write: registered once (in DI) and called by the store itself after
/// every ingest commit and every delete, so no write path can forget them. Calls run in commit
/// order while the store still serializes writes: an observer must not block, throw or call back
/// into the store's write methods (queue the work instead).
/// </summary>
internal interface IRecordChangeObserver
{
    /// <summary>
    /// Gets where this observer runs among the others, lower first (see <see cref="RecordChangeOrder"/>):
    /// the index runs before scoring so a pass never sees records a search cannot find yet.
    /// </summary>
    int Order { get; }

    /// <summary>Records a batch stored (only the new ones, not duplicates), in sequence order.</summary>
    void OnRecordsStored(StoredEmbeddingSet set, IReadOnlyList<InsertedRecord> inserted);

    /// <summary>Sequences of the records a delete tombstoned (at least one).</summary>
    void OnRecordsDeleted(StoredEmbeddingSet set, IReadOnlyList<long> sequences);
}

/// <summary>The <see cref="IRecordChangeObserver.Order"/> of the built-in observers.</summary>
internal static class RecordChangeOrder
{
    /// <summary>The nearest-neighbour indexes (searches must see a record as soon as its batch is acknowledged).</summary>
    public const int Index = 100;

    /// <summary>The scoring scheduler (marks the set for a later pass).</summary>
    public const int Scoring = 200;
}
