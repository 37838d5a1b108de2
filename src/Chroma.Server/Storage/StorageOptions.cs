namespace Chroma.Server.Storage;

/// <summary>
/// Which database holds the records and how it is checked after an unclean shutdown (section <c>Chroma:Storage</c>,
/// e.g. <c>Chroma__Storage__Provider</c>).
/// </summary>
public sealed class StorageOptions
{
    /// <summary>The configuration section, below <c>Chroma</c>.</summary>
    public const string SectionName = "Storage";

    /// <summary>
    /// Gets or sets the database: <see cref="StorageProvider.Sqlite"/> (a file in the data directory) or
    /// <see cref="StorageProvider.Postgres"/> (<see cref="ConnectionString"/>). Environment variable
    /// <c>Chroma__Storage__Provider</c>. The default value is <see cref="StorageProvider.Sqlite"/>.
    /// </summary>
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>
    /// Gets or sets the PostgreSQL connection string (Npgsql syntax, e.g.
    /// <c>Host=db;Port=5432;Database=chroma;Username=chroma;Password=...</c>); required with
    /// <see cref="StorageProvider.Postgres"/>, unused with SQLite. Its password is never logged.
    /// Environment variable <c>Chroma__Storage__ConnectionString</c>. The default value is <see langword="null"/>.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// Gets or sets how long a start waits for PostgreSQL to accept connections (0 to 10 minutes), so replicas started
    /// together with their database (a compose file, a pod) come up once it does instead of failing: while the
    /// connection is refused, the host is not found yet or the database says it is starting up, the start tries again
    /// (0.25 s, then twice as long each time up to 2 s, each attempt logged) until this has passed, then fails with exit
    /// code 5 as before. A refused login or an unknown database fails at once. 0 tries once. Unused with SQLite.
    /// Environment variable <c>Chroma__Storage__StartupTimeout</c> (e.g. <c>00:01:00</c>). The default value is 30 seconds.
    /// </summary>
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how thoroughly the SQLite database is checked when the server starts after an unclean shutdown (a
    /// crash, SIGKILL or power loss leaves no <c>clean-shutdown</c> marker in the data directory):
    /// <see cref="IntegrityCheckMode.Quick"/> scans the write-ahead log for damage that would silently drop committed
    /// records and runs SQLite's <c>quick_check</c>; <see cref="IntegrityCheckMode.Full"/> runs <c>integrity_check</c>
    /// instead; <see cref="IntegrityCheckMode.Off"/> skips it. A damaged database is not served: the start fails naming
    /// the file. Environment variable <c>Chroma__Storage__IntegrityCheck</c>. The default value is <see cref="IntegrityCheckMode.Quick"/>.
    /// </summary>
    public IntegrityCheckMode IntegrityCheck { get; set; } = IntegrityCheckMode.Quick;

    /// <summary>Copies these options.</summary>
    internal StorageOptions Clone() => (StorageOptions)MemberwiseClone();
}

/// <summary>The databases the server can store records in.</summary>
public enum StorageProvider
{
    /// <summary>SQLite in WAL mode: <c>chroma.db</c> in the data directory. One server per file.</summary>
    Sqlite,

    /// <summary>PostgreSQL: any number of servers may share one database.</summary>
    Postgres,
}
