using Microsoft.Data.Sqlite;

namespace Chroma.Server.Labeling.Internal;

/// <summary>
/// A data directory's <c>chroma.db</c> as servers before PostgreSQL schema 7 (before December 5) left it when they stored
/// records in PostgreSQL: their review store kept <c>record_reviews</c> and <c>review_events</c> there, keyed by the
/// PostgreSQL set key and record sequence, with no record tables. Read as that store wrote it (76f0be9 to 64518cd), and
/// marked once its rows are in PostgreSQL; its rows are never changed or deleted.
/// </summary>
internal static class LocalReviewFile
{
    /// <summary>The table that notes a carry-over into PostgreSQL: when, and up to which local audit event.</summary>
    public const string MarkerTable = "chroma_reviews_carried_to_postgres";

    /// <summary>What the file holds.</summary>
    public static LocalReviewFileContents Inspect(string path)
    {
        using var connection = Open(path);
        var tables = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table';";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                tables.Add(reader.GetString(0));
            }
        }

        if (tables.Contains("embedding_sets") || tables.Contains("records"))
        {
            return new LocalReviewFileContents(LocalReviewFileKind.Records, 0, 0);
        }

        if (!tables.Contains("record_reviews") || !tables.Contains("review_events"))
        {
            return new LocalReviewFileContents(LocalReviewFileKind.Nothing, 0, 0);
        }

        var reviews = Scalar(connection, "SELECT count(*) FROM record_reviews;");
        var lastEvent = Scalar(connection, "SELECT coalesce(max(event), 0) FROM review_events;");
        var carriedThrough = tables.Contains(MarkerTable) ? Scalar(connection, $"SELECT coalesce(max(through_event), -1) FROM {MarkerTable};") : -1;

        // A marker covers the events up to its own: an older server started on the directory again after the carry-over
        // (a rollback) appends events past it, and the next start carries those (what was carried is skipped).
        var kind = reviews == 0 && lastEvent == 0 ? LocalReviewFileKind.Nothing
            : carriedThrough >= lastEvent ? LocalReviewFileKind.Carried
            : LocalReviewFileKind.Reviews;
        return new LocalReviewFileContents(kind, reviews, lastEvent);
    }

    /// <summary>Every review row and audit event of the file, events in the order they were written.</summary>
    public static (List<LocalReviewRow> Rows, List<LocalReviewEvent> Events) Read(string path)
    {
        using var connection = Open(path);
        var rows = new List<LocalReviewRow>();
        using (var command = connection.CreateCommand())
        {
            // The old store's columns are today's, so today's reader reads them; the set key comes last.
            command.CommandText = $"SELECT {ReviewRows.Columns}, set_key FROM record_reviews;";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                rows.Add(new LocalReviewRow(reader.GetInt64(reader.FieldCount - 1), ReviewRows.ReadReview(reader)));
            }
        }

        var events = new List<LocalReviewEvent>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT event, set_key, sequence, record_id, action, actor, at_ms, detail FROM review_events ORDER BY event;";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                events.Add(new LocalReviewEvent(
                    reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetInt64(6),
                    reader.IsDBNull(7) ? null : reader.GetString(7)));
            }
        }

        return (rows, events);
    }

    /// <summary>Notes in the file that its events up to <paramref name="throughEvent"/> are in PostgreSQL.</summary>
    public static void Mark(string path, long throughEvent, long unixMs, string carriedBy)
    {
        using var connection = Open(path);
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""
            CREATE TABLE IF NOT EXISTS {MarkerTable} (carried_ms INTEGER NOT NULL, through_event INTEGER NOT NULL, carried_by TEXT NOT NULL);
            INSERT INTO {MarkerTable} (carried_ms, through_event, carried_by) VALUES ($at, $through, $by);
            """;
        command.Parameters.AddWithValue("$at", unixMs);
        command.Parameters.AddWithValue("$through", throughEvent);
        command.Parameters.AddWithValue("$by", carriedBy);
        command.ExecuteNonQuery();
        transaction.Commit();
    }

    private static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    // Read-write, never create: the file is the operator's; no pool, so nothing holds it open after the start.
    private static SqliteConnection Open(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = false,
            DefaultTimeout = 10,
        }.ToString());
        connection.Open();
        return connection;
    }
}

/// <summary>What a data directory's <c>chroma.db</c> holds, as a PostgreSQL server sees it.</summary>
internal enum LocalReviewFileKind
{
    /// <summary>No review rows (and no records).</summary>
    Nothing,

    /// <summary>Records of its own: a SQLite server's database; its reviews belong to those records.</summary>
    Records,

    /// <summary>Only the labeling loop of a server before PostgreSQL schema 7, not carried yet.</summary>
    Reviews,

    /// <summary>Only the labeling loop, already carried into PostgreSQL.</summary>
    Carried,
}

/// <summary>What <see cref="LocalReviewFile.Inspect"/> found.</summary>
/// <param name="Kind">What the file holds.</param>
/// <param name="Reviews">Its review rows.</param>
/// <param name="LastEvent">Its last audit event number.</param>
internal sealed record LocalReviewFileContents(LocalReviewFileKind Kind, long Reviews, long LastEvent);

/// <summary>A row of the old local <c>record_reviews</c>, with the set key it was first written for.</summary>
/// <param name="SetKey">The set key (PostgreSQL's).</param>
/// <param name="Review">The row.</param>
internal sealed record LocalReviewRow(long SetKey, RecordReview Review);

/// <summary>An event of the old local <c>review_events</c>.</summary>
/// <param name="Event">Its local number (write order).</param>
/// <param name="SetKey">The set key (PostgreSQL's).</param>
/// <param name="Sequence">The record's sequence in that set.</param>
/// <param name="RecordId">The record id.</param>
/// <param name="Action"><c>label</c>, <c>review</c>, <c>dismiss</c>, <c>reopen</c> or <c>promote</c>.</param>
/// <param name="Actor">Who.</param>
/// <param name="AtMs">When (Unix ms).</param>
/// <param name="Detail">The label, or the training copy's id of a promotion.</param>
internal sealed record LocalReviewEvent(long Event, long SetKey, long Sequence, string RecordId, string Action, string Actor, long AtMs, string? Detail);
