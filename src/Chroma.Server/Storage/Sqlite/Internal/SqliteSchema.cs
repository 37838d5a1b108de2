using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Storage.Sqlite.Internal;

/// <summary>Creates the schema of a new database and refuses one written by a newer server.</summary>
internal static class SqliteSchema
{
    /// <summary>The schema this server writes; bump it with a migration step below.</summary>
    public const int CurrentVersion = 6;

    private const string Version1 = """
        CREATE TABLE embedding_sets (
            set_key       INTEGER PRIMARY KEY,
            set_id        TEXT    NOT NULL UNIQUE,
            model         TEXT    NOT NULL,
            model_version TEXT    NOT NULL,
            layer         TEXT    NOT NULL,
            dimension     INTEGER NOT NULL,
            created_ms    INTEGER NOT NULL,
            updated_ms    INTEGER NOT NULL
        );
        -- AUTOINCREMENT: sequences never reused, so a page token stays valid across deletes.
        CREATE TABLE records (
            sequence            INTEGER PRIMARY KEY AUTOINCREMENT,
            set_key             INTEGER NOT NULL REFERENCES embedding_sets (set_key),
            record_id           TEXT    NOT NULL,
            dataset             TEXT    NOT NULL,
            embedding           BLOB    NOT NULL,
            input_uri           TEXT,
            predicted_class     TEXT,
            class_probabilities BLOB,
            class_names         TEXT,
            label               TEXT,
            metadata            TEXT,
            timestamp_ms        INTEGER NOT NULL,
            content_hash        BLOB    NOT NULL,
            deleted             INTEGER NOT NULL DEFAULT 0,
            UNIQUE (set_key, record_id)
        );
        -- Serves dataset-filtered pages in sequence order and index-only counts of live records.
        CREATE INDEX records_by_set_dataset ON records (set_key, dataset, deleted, sequence);
        """;

    // Version 2: the recommendation engine's per-record scores and the drift history, so a
    // restarted server serves its last ranking at once and rescores only what is new.
    private const string Version2 = """
        CREATE TABLE record_scores (
            set_key          INTEGER NOT NULL,
            sequence         INTEGER NOT NULL PRIMARY KEY REFERENCES records (sequence),
            training_version TEXT    NOT NULL,
            score            REAL    NOT NULL,
            signals          TEXT    NOT NULL,
            reasons          TEXT    NOT NULL,
            measurement      TEXT    NOT NULL,
            scored_ms        INTEGER NOT NULL
        );
        CREATE INDEX record_scores_by_set ON record_scores (set_key, sequence);
        CREATE TABLE drift_history (
            set_key           INTEGER NOT NULL,
            computed_ms       INTEGER NOT NULL,
            mmd2              REAL    NOT NULL,
            p_value           REAL    NOT NULL,
            training_sample   INTEGER NOT NULL,
            production_sample INTEGER NOT NULL,
            through_sequence  INTEGER NOT NULL
        );
        CREATE INDEX drift_history_by_set ON drift_history (set_key, computed_ms);
        """;

    // Version 3: each set's metric (issue 13). Sets stored before it are L2, which is what they were searched by.
    private const string Version3 = """
        ALTER TABLE embedding_sets ADD COLUMN metric TEXT NOT NULL DEFAULT 'l2';
        """;

    // Version 4: change sequences, so indexes tail the store instead of holding not-yet-indexed records in memory.
    // A set's last_sequence is the highest sequence stamped on its inserts and deletions; a delete takes a new
    // sequence from the records table's AUTOINCREMENT counter and stamps it on its tombstones (deleted_sequence).
    private const string Version4Index = """
        CREATE INDEX IF NOT EXISTS records_deleted_by_set ON records (set_key, deleted_sequence) WHERE deleted_sequence IS NOT NULL;
        UPDATE embedding_sets SET last_sequence = COALESCE((SELECT MAX(r.sequence) FROM records r WHERE r.set_key = embedding_sets.set_key), 0);
        """;

    // Version 5: a set's records in sequence order. Paging without a dataset and the index tail ("the set's changes
    // after sequence S") filter by set and order by sequence; records_by_set_dataset leads with the dataset, so SQLite
    // sorted every record of the set for each page or tail read (GetRecords p50 3.5 s at 1.1 M records).
    private const string Version5 = """
        CREATE INDEX IF NOT EXISTS records_by_set_sequence ON records (set_key, sequence);
        """;

    // Version 6: a set's deleted rows. Loading a saved index reads the sequences deleted up to the save ("deleted and
    // sequence <= S"), as does a Studio map update; without it that read walked every record of the set.
    private const string Version6 = """
        CREATE INDEX IF NOT EXISTS records_deleted_rows ON records (set_key, sequence) WHERE deleted = 1;
        """;

    /// <summary>Brings the database at <paramref name="connection"/> to <see cref="CurrentVersion"/>; returns the version it had (0: empty).</summary>
    public static int Migrate(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction();
        Execute(connection, transaction, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);");
        var version = ReadVersion(connection, transaction);
        if (version > CurrentVersion)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"The database was written by a newer Chroma server (schema {version}; this server knows up to {CurrentVersion})."));
        }

        if (version < 1)
        {
            Execute(connection, transaction, Version1);
            Execute(connection, transaction, "DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (1);");
        }

        if (version < 2)
        {
            Execute(connection, transaction, Version2);
            Execute(connection, transaction, "DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (2);");
        }

        if (version < 3)
        {
            Execute(connection, transaction, Version3);
            Execute(connection, transaction, "DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (3);");
        }

        if (version < 4)
        {
            // Idempotent column adds: a database rolled back to an older version number keeps its columns.
            AddColumnIfMissing(connection, transaction, "embedding_sets", "last_sequence", "INTEGER NOT NULL DEFAULT 0");
            AddColumnIfMissing(connection, transaction, "records", "deleted_sequence", "INTEGER");
            Execute(connection, transaction, Version4Index);
            Execute(connection, transaction, "DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (4);");
        }

        if (version < 5)
        {
            Execute(connection, transaction, Version5);
            Execute(connection, transaction, "DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (5);");
        }

        if (version < 6)
        {
            Execute(connection, transaction, Version6);
            Execute(connection, transaction, "DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (6);");
        }

        transaction.Commit();
        return version;
    }

    /// <summary>
    /// The schema version of the database at <paramref name="databasePath"/>, read without changing it (a read-only
    /// connection, nothing migrated); 0 for a file without Chroma's schema.
    /// </summary>
    public static int ReadVersion(string databasePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        var connectionString = new SqliteConnectionStringBuilder { DataSource = databasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT CASE WHEN EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version') THEN 1 ELSE 0 END;";
        if ((long)command.ExecuteScalar()! == 0)
        {
            return 0;
        }

        command.CommandText = "SELECT MAX(version) FROM schema_version;";
        return command.ExecuteScalar() is long version ? (int)version : 0;
    }

    private static void AddColumnIfMissing(SqliteConnection connection, SqliteTransaction transaction, string table, string column, string definition)
    {
        using var exists = connection.CreateCommand();
        exists.Transaction = transaction;
        exists.CommandText = "SELECT COUNT(*) FROM pragma_table_info($table) WHERE name = $column;";
        exists.Parameters.AddWithValue("$table", table);
        exists.Parameters.AddWithValue("$column", column);
        if ((long)exists.ExecuteScalar()! == 0)
        {
            Execute(connection, transaction, $"ALTER TABLE {table} ADD COLUMN {column} {definition};");
        }
    }

    private static int ReadVersion(SqliteConnection connection, SqliteTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT MAX(version) FROM schema_version;";
        return command.ExecuteScalar() is long version ? (int)version : 0;
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
