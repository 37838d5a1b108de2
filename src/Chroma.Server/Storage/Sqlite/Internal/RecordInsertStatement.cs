using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Chroma.Server.Storage.Sqlite.Internal;

/// <summary>
/// The ingest hot path: one INSERT compiled once on the writer connection and driven through the
/// native SQLite API (bind by index, step, reset). Per-row ADO.NET overhead (parameter lookup by
/// name, a data reader per call) cost more than SQLite's own work for 512-byte embeddings.
/// </summary>
/// <remarks>
/// No <c>RETURNING</c> clause: SQLite runs RETURNING as a trigger, and a statement with a trigger opens a statement
/// journal. Inside the batch's savepoint that journal is the savepoint's sub-journal (a temporary file once past 64 KiB),
/// so every row copied each page it touched (table leaf, four index leaves) into it first: about 12 <c>pwrite</c>s and
/// 20 KiB per record, measured as 60% of SQLite's CPU per record. A single-row INSERT without a trigger needs no
/// statement journal; whether it inserted comes from <c>sqlite3_changes</c> and its sequence (the rowid) from
/// <c>sqlite3_last_insert_rowid</c>.
/// </remarks>
internal sealed class RecordInsertStatement : IDisposable
{
    private const string Sql = """
        INSERT INTO records (set_key, record_id, dataset, embedding, input_uri, predicted_class,
                             class_probabilities, class_names, label, metadata, timestamp_ms, content_hash)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
        ON CONFLICT (set_key, record_id) DO NOTHING;
        """;

    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;

    /// <summary>Compiles the statement on <paramref name="connection"/> (open; used only under the write lock).</summary>
    public RecordInsertStatement(SqliteConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _db = connection.Handle ?? throw new InvalidOperationException("The writer connection is not open.");
        Check(raw.sqlite3_prepare_v2(_db, Sql, out _statement));
    }

    /// <summary>Inserts <paramref name="record"/>; returns its new sequence, or null when the id is already in the set.</summary>
    public long? Insert(long setKey, PreparedRecord record)
    {
        try
        {
            Check(raw.sqlite3_bind_int64(_statement, 1, setKey));
            Check(raw.sqlite3_bind_text(_statement, 2, record.Id));
            Check(raw.sqlite3_bind_text(_statement, 3, record.Dataset));
            Check(raw.sqlite3_bind_blob(_statement, 4, record.Embedding));
            BindText(5, record.InputUri);
            BindText(6, record.PredictedClass);
            BindBlob(7, record.ClassProbabilities);
            BindText(8, record.ClassNamesJson);
            BindText(9, record.Label);
            BindText(10, record.MetadataJson);
            Check(raw.sqlite3_bind_int64(_statement, 11, record.TimestampUnixMs));
            Check(raw.sqlite3_bind_blob(_statement, 12, record.ContentHash));

            var rc = raw.sqlite3_step(_statement);
            if (rc != raw.SQLITE_DONE)
            {
                Check(rc);
            }

            // DO NOTHING on a conflict changes no row and leaves the last rowid as it was, so read it only after a change.
            return raw.sqlite3_changes(_db) == 1 ? raw.sqlite3_last_insert_rowid(_db) : null;
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _statement.Dispose();

    private void BindText(int index, string? value) =>
        Check(value is null ? raw.sqlite3_bind_null(_statement, index) : raw.sqlite3_bind_text(_statement, index, value));

    private void BindBlob(int index, byte[]? value) =>
        Check(value is null ? raw.sqlite3_bind_null(_statement, index) : raw.sqlite3_bind_blob(_statement, index, value));

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            throw new SqliteException(raw.sqlite3_errmsg(_db).utf8_to_string(), rc);
        }
    }
}
