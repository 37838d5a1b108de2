namespace Chroma.Server.Storage;

/// <summary>
/// Told about commits made by other servers on a shared database (PostgreSQL <c>LISTEN</c>), so their changes are
/// picked up at once rather than at the next poll. Calls come from the listener's thread: they must not block.
/// </summary>
internal interface IStoreChangeSink
{
    /// <summary>A commit stamped the set with key <paramref name="setKey"/> through <paramref name="sequence"/>.</summary>
    void OnCommitted(long setKey, long sequence);

    /// <summary>Notices may have been missed (the listener reconnected): every set is to be checked against the store.</summary>
    void OnChangesMissed();
}
