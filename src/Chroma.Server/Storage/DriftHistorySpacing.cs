namespace Chroma.Server.Storage;

/// <summary>
/// How a set's drift history stays spaced in time (see <see cref="IRecordScoreStore.SaveDriftAsync"/>): before a new
/// measurement is added, the newest point is deleted when it was measured less than the spacing after the point before
/// it. That newest point was only the latest measurement so far; the new one takes its place. Points further back are
/// never deleted this way, so they lie at least the spacing apart.
/// </summary>
internal static class DriftHistorySpacing
{
    /// <summary>The delete for SQLite (parameters <c>$set</c>, <c>$spacing</c> in milliseconds).</summary>
    public const string DeleteNewestSqlite = """
        DELETE FROM drift_history WHERE rowid IN (
            SELECT newest.rowid FROM
                (SELECT rowid, computed_ms FROM drift_history WHERE set_key = $set ORDER BY computed_ms DESC, rowid DESC LIMIT 1) AS newest,
                (SELECT computed_ms FROM drift_history WHERE set_key = $set ORDER BY computed_ms DESC, rowid DESC LIMIT 1 OFFSET 1) AS before
            WHERE newest.computed_ms - before.computed_ms < $spacing);
        """;

    /// <summary>The delete for PostgreSQL (parameters <c>$1</c> the set key, <c>$2</c> the spacing in milliseconds).</summary>
    public const string DeleteNewestPostgres = """
        DELETE FROM drift_history WHERE id IN (
            SELECT newest.id FROM
                (SELECT id, computed_ms FROM drift_history WHERE set_key = $1 ORDER BY computed_ms DESC, id DESC LIMIT 1) AS newest,
                (SELECT computed_ms FROM drift_history WHERE set_key = $1 ORDER BY computed_ms DESC, id DESC LIMIT 1 OFFSET 1) AS before
            WHERE newest.computed_ms - before.computed_ms < $2);
        """;
}
