using Chroma.Server.Hosting.Internal;
using Chroma.Server.Labeling.Internal;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Chroma.Server.Labeling;

/// <summary>
/// At the start of a PostgreSQL server: the labels, review states, promotions and audit trail that servers before
/// PostgreSQL schema 7 (before December 5) kept in each replica's own <c>chroma.db</c> go into the shared tables, once.
/// One transaction per set (<see cref="PostgresReviewStore.CarryLocal"/>); the file is then marked, so later starts only
/// read its marker; its rows stay. A file with records of its own (a SQLite server's database) is not touched.
/// </summary>
internal static class LocalReviewCarryOver
{
    /// <summary>
    /// What <paramref name="path"/> holds, looked at once before the connection to PostgreSQL is tried (so a SQLite
    /// server's database is named even when PostgreSQL cannot be reached); null when there is no such file, or it cannot
    /// be read (said in the log: the next start tries again).
    /// </summary>
    public static LocalReviewFileContents? Inspect(string path, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return LocalReviewFile.Inspect(path);
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            StorageLog.LocalReviewsNotCarried(logger, path, ex.Message, ex);
            return null;
        }
    }

    /// <summary>
    /// Carries the file's reviews into this database when <paramref name="contents"/> (from <see cref="Inspect"/>) says
    /// it holds some not carried yet, logging what it did.
    /// </summary>
    public static void Run(string path, LocalReviewFileContents contents, PostgresReviewStore reviews, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(contents);
        ArgumentNullException.ThrowIfNull(reviews);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        if (contents.Kind != LocalReviewFileKind.Reviews)
        {
            return;
        }

        try
        {
            var (rows, events) = LocalReviewFile.Read(path);
            StorageLog.CarryingLocalReviews(logger, path, rows.Count, events.Count);
            var rowsBySequence = rows.ToDictionary(r => r.Review.Sequence);
            var eventsBySet = events.GroupBy(e => e.SetKey).ToDictionary(g => g.Key, g => (IReadOnlyList<LocalReviewEvent>)g.ToList());
            var refused = 0;
            foreach (var setKey in eventsBySet.Keys.Concat(rows.Select(r => r.SetKey)).Distinct().Order())
            {
                var carried = reviews.CarryLocal(setKey, eventsBySet.GetValueOrDefault(setKey) ?? [], rowsBySequence);
                if (carried.SetId is null)
                {
                    StorageLog.LocalReviewsOfGoneSet(logger, path, setKey, carried.GoneReviews, carried.GoneEvents);
                }
                else if (carried.Refusal is not null)
                {
                    refused++;
                    StorageLog.LocalReviewsRefused(logger, path, carried.SetId, carried.Refusal);
                }
                else
                {
                    StorageLog.LocalReviewsCarried(
                        logger, carried.SetId, carried.Reviews, carried.Labels, carried.Events, carried.KeptNewer, carried.AlreadyPresent, carried.EventsPresent,
                        carried.GoneReviews, carried.GoneEvents);
                }
            }

            // A set refused stays unmarked, so every start says so until someone acts; what was carried is skipped then.
            if (refused == 0)
            {
                LocalReviewFile.Mark(path, contents.LastEvent, timeProvider.GetUtcNow().ToUnixTimeMilliseconds(), $"{Environment.MachineName}/{Environment.ProcessId}");
            }
        }
        catch (Exception ex) when (ex is SqliteException or NpgsqlException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            StorageLog.LocalReviewsNotCarried(logger, path, ex.Message, ex);
        }
    }
}
