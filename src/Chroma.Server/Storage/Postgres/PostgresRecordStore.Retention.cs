using Npgsql;

namespace Chroma.Server.Storage.Postgres;

/// <summary>What retention reads: records past their age, labeled ones left out.</summary>
internal sealed partial class PostgresRecordStore
{
    /// <inheritdoc />
    public IReadOnlyList<string> FindExpiredIds(StoredEmbeddingSet set, string dataset, long beforeUnixMs, int limit)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(dataset);
        using var connection = _database.OpenConnection();

        // The (set, dataset, deleted, sequence) index walks the dataset oldest first; old records come first in practice.
        // A labeled record is a person's work and stays (probe T's T9): it leaves only when deleted by hand.
        using var command = new NpgsqlCommand("""
            SELECT record_id FROM records r
            WHERE set_key = $1 AND dataset = $2 AND NOT deleted AND timestamp_ms < $3 AND timestamp_ms <> 0
              AND NOT EXISTS (SELECT 1 FROM record_reviews v WHERE v.set_key = r.set_key AND v.sequence = r.sequence AND v.label IS NOT NULL)
            ORDER BY sequence LIMIT $4;
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = set.Key });
        command.Parameters.Add(new NpgsqlParameter { Value = dataset });
        command.Parameters.Add(new NpgsqlParameter { Value = beforeUnixMs });
        command.Parameters.Add(new NpgsqlParameter { Value = (long)limit });
        var ids = new List<string>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }
}
