namespace Chroma.Server.Storage;

/// <summary>
/// Told about scoring on other replicas of a shared database (PostgreSQL <c>LISTEN</c>), so a replica reads a new
/// ranking, or starts a pass someone waits for, at once rather than at its next watermark poll. Notices can be lost
/// (while the listener reconnects), so the poll stays. Calls come from the listener's thread: they must not block.
/// </summary>
internal interface IScoringChangeSink
{
    /// <summary>The holder of the set with key <paramref name="setKey"/> published a pass as scores revision <paramref name="revision"/>.</summary>
    void OnRankingPublished(long setKey, long revision);

    /// <summary>
    /// A request on a replica that does not score the set with key <paramref name="setKey"/> waits for a ranking that
    /// covers every record through <paramref name="throughSequence"/> and the first <paramref name="throughDeletes"/>
    /// of the set's deletes.
    /// </summary>
    void OnPassWanted(long setKey, long throughSequence, long throughDeletes);
}
