using Microsoft.Data.Sqlite;

namespace Chroma.Server.Storage.Sqlite;

/// <summary>What retention reads: records past their age, labeled ones left out.</summary>
internal sealed partial class SqliteRecordStore
{
    /// <inheritdoc />
    public IReadOnlyList<string> FindExpiredIds(StoredEmbeddingSet set, string dataset, long beforeUnixMs, int limit)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(dataset);
        using var connection = _database.OpenReader();
        using var command = connection.CreateCommand();

        // The (set, dataset, deleted, sequence) index walks the dataset oldest first; old records come first in practice.
        // A labeled record is a person's work and stays (probe T's T9): it leaves only when deleted by hand. The review
        // store makes its table on first use, so a database that never had one has no labeled record to keep.
        command.CommandText = $"""
            SELECT record_id FROM records r
            WHERE set_key = $set AND dataset = $dataset AND deleted = 0 AND timestamp_ms < $before AND timestamp_ms <> 0
            {(HasReviewTable(connection) ? "AND NOT EXISTS (SELECT 1 FROM record_reviews v WHERE v.set_key = r.set_key AND v.sequence = r.sequence AND v.label IS NOT NULL)" : string.Empty)}
            ORDER BY sequence LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$set", set.Key);
        command.Parameters.AddWithValue("$dataset", dataset);
        command.Parameters.AddWithValue("$before", beforeUnixMs);
        command.Parameters.Add(new SqliteParameter("$limit", limit));
        var ids = new List<string>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    private static bool HasReviewTable(SqliteConnection connection, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'record_reviews';";
        return command.ExecuteScalar() is not null;
    }
}
