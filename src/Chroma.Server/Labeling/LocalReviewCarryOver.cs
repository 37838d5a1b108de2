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
    /// Whether <paramref name="path"/> is a SQLite server's database (records of its own, which a PostgreSQL server does
    /// not serve); false when there is no such file or it cannot be read.
    /// </summary>
    public static bool HoldsRecords(string path)
    {
        try
        {
            return File.Exists(path) && LocalReviewFile.Inspect(path).Kind == LocalReviewFileKind.Records;
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Looks at <paramref name="path"/> and carries what it holds for this database, logging what it did.</summary>
    public static void Run(string path, PostgresReviewStore reviews, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(reviews);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        if (!File.Exists(path))
        {
            return;
        }

        try
        {
            var contents = LocalReviewFile.Inspect(path);
            switch (contents.Kind)
            {
                case LocalReviewFileKind.Records:
                    // A SQLite server's database: said before the connection was tried (HoldsRecords).
                    return;
                case LocalReviewFileKind.Nothing:
                case LocalReviewFileKind.Carried:
                    return;
            }

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
