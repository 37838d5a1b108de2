using Microsoft.Data.Sqlite;

namespace Chroma.Server.Storage.Sqlite;

/// <summary>What retention reads: records past their age.</summary>
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
        command.CommandText = """
            SELECT record_id FROM records
            WHERE set_key = $set AND dataset = $dataset AND deleted = 0 AND timestamp_ms < $before AND timestamp_ms <> 0
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
}
