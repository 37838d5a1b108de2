namespace Chroma.Server.Storage;

/// <summary>
/// Stored scores read by what changed, for a replica that serves the ranking another replica's passes store: every
/// score write takes a stamp, and a set's stamps grow in the order its writes commit (only the set's lease holder
/// writes them, one write at a time, and a write takes its stamp after the lease check). Reading the rows stamped after
/// the last read, with the deletes since (<see cref="IReplicaCoordination.ReadDeletesAsync"/>), therefore gives what a
/// whole read would. Rows leave the table only with their record (a delete) or in a refit that found no live record to
/// score, whose cleared rows are all of deleted records. PostgreSQL only: on SQLite one process writes and serves.
/// </summary>
internal interface IScoreChangeReader
{
    /// <summary>The highest stamp of the set's stored scores (0 when none, or only rows stored before stamps).</summary>
    long ReadLatestScoreStamp(StoredEmbeddingSet set);

    /// <summary>
    /// Visits the set's live scores written after <paramref name="afterStamp"/>, in sequence order, as
    /// <see cref="IRecordScoreStore.VisitScores"/> does; returns the highest stamp visited, or
    /// <paramref name="afterStamp"/> when none was.
    /// </summary>
    long VisitScoresChangedAfter(StoredEmbeddingSet set, long afterStamp, Action<PersistedScore> visitor);
}
