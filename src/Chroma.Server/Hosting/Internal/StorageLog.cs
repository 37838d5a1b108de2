namespace Chroma.Server.Hosting.Internal;

/// <summary>Log messages about the store the server runs on.</summary>
internal static partial class StorageLog
{
    [LoggerMessage(EventId = 38, Level = LogLevel.Error,
        Message = "Record change observer {Observer} failed after a commit; the commit stands and the other observers ran")]
    public static partial void ObserverFailed(ILogger logger, string observer, Exception exception);

    [LoggerMessage(EventId = 39, Level = LogLevel.Warning,
        Message = "PostgreSQL does not accept connections yet, or cut one while the schema was prepared (attempt {Attempt}: {Reason}); trying again in {PauseSeconds:F2} s, for up to {StartupTimeout} in all (Chroma:Storage:StartupTimeout)")]
    public static partial void WaitingForDatabase(ILogger logger, int attempt, double pauseSeconds, TimeSpan startupTimeout, string reason);

    [LoggerMessage(EventId = 40, Level = LogLevel.Warning,
        Message = "The data directory holds a SQLite server's database with records of its own, {Path}, which this server does not serve: it stores in PostgreSQL (Chroma:Storage:Provider). Its records, labels, reviews and audit trail stay in that file; to move the records, run a server on it with the SQLite provider and `chroma-server export`, then `chroma-server import` into this one (labels, reviews and the audit trail are not carried; see README, Storage providers)")]
    public static partial void SqliteDatabaseNotServed(ILogger logger, string path);

    [LoggerMessage(EventId = 31, Level = LogLevel.Information,
        Message = "The data directory's {Path} holds no records, only the labeling loop that servers before December 5 (PostgreSQL schema 7) kept in each replica's own file: {Reviews} reviews and {Events} audit events; carrying them into PostgreSQL, once (the file is kept and marked)")]
    public static partial void CarryingLocalReviews(ILogger logger, string path, int reviews, int events);

    [LoggerMessage(EventId = 32, Level = LogLevel.Information,
        Message = "Set {SetId}: carried {Reviews} reviews ({Labels} labeled) and {Events} audit events from this replica's own file into PostgreSQL; kept {KeptNewer} reviews newer in PostgreSQL, {AlreadyPresent} reviews and {EventsPresent} events were there already; skipped {GoneReviews} reviews and {GoneEvents} events of records no longer stored")]
    public static partial void LocalReviewsCarried(
        ILogger logger, string setId, int reviews, int labels, int events, int keptNewer, int alreadyPresent, int eventsPresent, int goneReviews, int goneEvents);

    [LoggerMessage(EventId = 33, Level = LogLevel.Warning,
        Message = "Did not carry the labels, reviews and audit events {Path} holds for set {SetId} into PostgreSQL: {Reason}. They stay in that file, which is left unmarked (this is said at every start); see README, Upgrading replicas on PostgreSQL")]
    public static partial void LocalReviewsRefused(ILogger logger, string path, string setId, string reason);

    [LoggerMessage(EventId = 34, Level = LogLevel.Information,
        Message = "{Path} holds {Reviews} reviews and {Events} audit events for set key {SetKey}, which no set in PostgreSQL has any more; skipped (they stay in the file)")]
    public static partial void LocalReviewsOfGoneSet(ILogger logger, string path, long setKey, int reviews, int events);

    [LoggerMessage(EventId = 35, Level = LogLevel.Warning,
        Message = "Could not carry the labels, reviews and audit events of {Path} (kept there by servers before December 5) into PostgreSQL: {Reason}. Nothing is lost: they stay in that file and the next start tries again (a set carried in part is finished then, nothing twice)")]
    public static partial void LocalReviewsNotCarried(ILogger logger, string path, string reason, Exception exception);
}
