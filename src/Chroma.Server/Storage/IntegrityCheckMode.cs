namespace Chroma.Server.Storage;

/// <summary>How thoroughly the store checks its database after an unclean shutdown (and in <c>chroma-server check</c>).</summary>
public enum IntegrityCheckMode
{
    /// <summary>No check: the database is opened as it is.</summary>
    Off = 0,

    /// <summary>
    /// The write-ahead log is scanned for damaged frames that would make SQLite drop committed transactions, then
    /// SQLite's <c>PRAGMA quick_check</c> runs (every page read once; seconds per GiB).
    /// </summary>
    Quick = 1,

    /// <summary>As <see cref="Quick"/>, with SQLite's <c>PRAGMA integrity_check</c> (also checks every index against its table; slower).</summary>
    Full = 2,
}
