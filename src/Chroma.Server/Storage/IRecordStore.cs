using Chroma.Protocol.V1;

namespace Chroma.Server.Storage;

/// <summary>
/// Durable home of embedding sets and their records. Writes are serialized and durable when
/// their task completes; reads run concurrently with them and see committed data only.
/// Deleted records stay as tombstones so a re-sent batch cannot bring them back. After each
/// committed ingest or delete the store calls the <see cref="RecordChangeObservers"/> it was
/// opened with. A write the database could not complete throws <see cref="StoreUnavailableException"/>.
/// </summary>
internal interface IRecordStore : IDisposable
{
    /// <summary>
    /// Stores a validated batch in one transaction, creating the set <paramref name="setId"/> on
    /// first sight. Records already stored with the same content count as duplicates; the same id
    /// with other content rejects the whole batch (<see cref="IngestRejectionKind.ConflictingRecord"/>; its message says
    /// when that id was deleted, which it stays),
    /// as does a dimension differing from the set's (<see cref="IngestRejectionKind.DimensionMismatch"/>), a metric
    /// other than the set's (<see cref="IngestRejectionKind.MetricMismatch"/>; unspecified means the set's) and an
    /// all-zero embedding for a cosine set (<see cref="IngestRejectionKind.ZeroVector"/>). A new set gets the batch's
    /// metric, L2 when it names none (<see cref="SetMetrics.ForNewSet"/>).
    /// </summary>
    Task<IngestOutcome> IngestAsync(
        string setId,
        EmbeddingSetDescriptor descriptor,
        IReadOnlyList<PreparedRecord> records,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Why this provider cannot hold record <paramref name="index"/> of a batch that is otherwise valid (PostgreSQL text
    /// cannot hold U+0000), or null; the same rejection <see cref="IngestAsync"/> would give (the ingest validator asks
    /// first, so a rejected batch lists such records with its other invalid ones).
    /// </summary>
    IngestRejection? CheckStorable(Record record, int index);

    /// <summary>
    /// Whether <paramref name="set"/> already holds <paramref name="record"/> as it is (its id with the same content
    /// hash, live or deleted): what <see cref="IngestAsync"/> would count as a duplicate. The ingest validator asks it of
    /// a record that only a rule newer than the stored record refuses, so re-sending stored records stays a duplicate.
    /// </summary>
    bool HoldsUnchanged(StoredEmbeddingSet set, PreparedRecord record);

    /// <summary>The set with this id, or null.</summary>
    StoredEmbeddingSet? FindSet(string setId);

    /// <summary>Every set with its live counts, ordered by id.</summary>
    IReadOnlyList<EmbeddingSetSummary> ListSets();

    /// <summary>One page of live records in sequence order.</summary>
    RecordPage GetRecords(StoredEmbeddingSet set, RecordQuery query);

    /// <summary>The live records with these (normalized) ids, in request order; unknown ids are left out.</summary>
    IReadOnlyList<StoredRecord> GetRecordsByIds(StoredEmbeddingSet set, IReadOnlyList<string> ids, bool includeEmbeddings);

    /// <summary>The live records with these sequences, in request order; missing ones are left out.</summary>
    IReadOnlyList<StoredRecord> GetRecordsBySequence(StoredEmbeddingSet set, IReadOnlyList<long> sequences, bool includeEmbeddings);

    /// <summary>How many live records match.</summary>
    long CountRecords(StoredEmbeddingSet set, RecordSelection selection);

    /// <summary>
    /// Visits every live vector of the set with a sequence above <paramref name="afterSequence"/> (0: all), in
    /// sequence order; returns the highest sequence the store had issued in the same snapshot.
    /// </summary>
    long ReadVectors(StoredEmbeddingSet set, StoredVectorVisitor visitor, long afterSequence = 0);

    /// <summary>Sequences of the set's deleted records (tombstones) up to <paramref name="throughSequence"/>.</summary>
    IReadOnlyList<long> ReadDeletedSequences(StoredEmbeddingSet set, long throughSequence);

    /// <summary>
    /// Ids of up to <paramref name="limit"/> live records of <paramref name="dataset"/> whose timestamp is before
    /// <paramref name="beforeUnixMs"/>, oldest sequence first (what a retention rule deletes next); records with a label
    /// (the labeling loop's) are never among them.
    /// </summary>
    IReadOnlyList<string> FindExpiredIds(StoredEmbeddingSet set, string dataset, long beforeUnixMs, int limit);

    /// <summary>
    /// The set's change sequence: the highest sequence stamped on any of its inserts or deletions so far (0: none).
    /// Every change stamped at or below it is committed and readable; a query waits until the index reflects it.
    /// </summary>
    long ReadLastSequence(StoredEmbeddingSet set);

    /// <summary>Every set's id with its change sequence (<see cref="ReadLastSequence"/>), for indexes that poll.</summary>
    IReadOnlyDictionary<string, long> ReadLastSequences();

    /// <summary>
    /// The set's changes stamped after <paramref name="afterSequence"/>, in one snapshot: at most <paramref name="limit"/>
    /// live inserts in sequence order, and the deletions up to the page's <see cref="RecordChangePage.Through"/>.
    /// Sequences of a set commit in order (see the providers), so a cursor that moves to <c>Through</c> skips nothing.
    /// </summary>
    RecordChangePage ReadChanges(StoredEmbeddingSet set, long afterSequence, int limit);

    /// <summary>
    /// Marks the live records with these ids deleted (a tombstone stamped with a new change sequence of the set);
    /// returns how many were.
    /// </summary>
    Task<long> DeleteAsync(StoredEmbeddingSet set, IReadOnlyList<string> ids, CancellationToken cancellationToken = default);

    /// <summary>
    /// As <see cref="DeleteAsync"/>, but leaves out the records that carry a label, checked in the delete's own
    /// transaction (retention: a record labeled after <see cref="FindExpiredIds"/> read it stays).
    /// </summary>
    Task<long> DeleteUnlabeledAsync(StoredEmbeddingSet set, IReadOnlyList<string> ids, CancellationToken cancellationToken = default);

    /// <summary>Merges <paramref name="tags"/> into the metadata of the live records with these ids; returns how many.</summary>
    Task<long> TagAsync(
        StoredEmbeddingSet set, IReadOnlyList<string> ids, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default);

    /// <summary>Removes the metadata entries named <paramref name="keys"/> from the live records with these ids (an undone tag); returns how many records matched.</summary>
    Task<long> RemoveTagsAsync(
        StoredEmbeddingSet set, IReadOnlyList<string> ids, IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default);

    /// <summary>Whether the database answers a trivial query.</summary>
    bool IsReadable();
}
