using Microsoft.Data.Sqlite;

namespace Chroma.Server.Labeling.Internal;

/// <summary>
/// The review tables, created next to the record tables in <c>chroma.db</c> when the review store
/// opens. They only add to the schema (CREATE ... IF NOT EXISTS), so the record store's schema
/// version is untouched and an older server simply ignores them.
/// </summary>
internal static class ReviewSchema
{
    private const string Tables = """
        CREATE TABLE IF NOT EXISTS record_reviews (
            sequence           INTEGER PRIMARY KEY,
            set_key            INTEGER NOT NULL,
            record_id          TEXT    NOT NULL,
            state              INTEGER NOT NULL DEFAULT 0,
            reviewed_by        TEXT,
            reviewed_ms        INTEGER NOT NULL DEFAULT 0,
            label              TEXT,
            labeled_by         TEXT,
            note               TEXT,
            labeled_ms         INTEGER NOT NULL DEFAULT 0,
            promoted_record_id TEXT,
            promoted_label     TEXT,
            promoted_by        TEXT,
            promoted_ms        INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX IF NOT EXISTS record_reviews_by_state ON record_reviews (set_key, state, sequence);
        CREATE INDEX IF NOT EXISTS record_reviews_labeled ON record_reviews (set_key, sequence) WHERE label IS NOT NULL;
        CREATE TABLE IF NOT EXISTS review_events (
            event     INTEGER PRIMARY KEY AUTOINCREMENT,
            set_key   INTEGER NOT NULL,
            sequence  INTEGER NOT NULL,
            record_id TEXT    NOT NULL,
            action    TEXT    NOT NULL,
            actor     TEXT    NOT NULL,
            at_ms     INTEGER NOT NULL,
            detail    TEXT
        );
        CREATE INDEX IF NOT EXISTS review_events_by_set ON review_events (set_key, event);
        CREATE INDEX IF NOT EXISTS review_events_by_record ON review_events (set_key, record_id, event);
        """;

    /// <summary>Creates the tables that are missing.</summary>
    public static void Ensure(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = Tables;
        command.ExecuteNonQuery();
        transaction.Commit();
    }
}
