using Chroma.Server.Storage.Internal;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Storage.Sqlite;

/// <summary>
/// Change sequences for indexes that tail the store. One writer commits at a time and sequences come from one
/// AUTOINCREMENT counter, so a set's changes become visible in sequence order: a cursor never passes a late commit.
/// </summary>
internal sealed partial class SqliteRecordStore
{
    /// <inheritdoc />
    public long ReadLastSequence(StoredEmbeddingSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        using var connection = _database.OpenReader();
        return LastSequence(connection, null, set.Key);
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, long> ReadLastSequences()
    {
        using var connection = _database.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT set_id, last_sequence FROM embedding_sets;";
        var sequences = new Dictionary<string, long>(StringComparer.Ordinal);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            sequences[reader.GetString(0)] = reader.GetInt64(1);
        }

        return sequences;
    }

    /// <inheritdoc />
    public RecordChangePage ReadChanges(StoredEmbeddingSet set, long afterSequence, int limit)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        using var connection = _database.OpenReader();

        // One read transaction: the set's change sequence, its inserts and its deletions come from one snapshot.
        using var transaction = connection.BeginTransaction(deferred: true);
        var high = LastSequence(connection, transaction, set.Key);
        var dimension = set.Dimension;
        var sequences = new List<long>();
        var datasets = new List<string>();
        var vectors = new List<float>();
        if (high > afterSequence)
        {
            using var inserts = connection.CreateCommand();
            inserts.Transaction = transaction;
            // A range of the primary key (the unary + keeps the planner off the per-set index, which would read every
            // record of the set and sort them): a tail reads only what follows its cursor.
            inserts.CommandText = """
                SELECT sequence, dataset, embedding FROM records
                WHERE sequence > $after AND sequence <= $high AND +set_key = $set AND +deleted = 0
                ORDER BY sequence LIMIT $limit;
                """;
            inserts.Parameters.AddWithValue("$after", afterSequence);
            inserts.Parameters.AddWithValue("$high", high);
            inserts.Parameters.AddWithValue("$set", set.Key);
            inserts.Parameters.AddWithValue("$limit", limit);
            var vector = new float[dimension];
            var blob = new byte[dimension * sizeof(float)];
            using var reader = inserts.ExecuteReader();
            while (reader.Read())
            {
                reader.GetBytes(2, 0, blob, 0, blob.Length);
                FloatBlob.CopyTo(blob, vector);
                sequences.Add(reader.GetInt64(0));
                datasets.Add(reader.GetString(1));
                vectors.AddRange(vector);
            }
        }

        var full = sequences.Count == limit;
        var through = full ? sequences[^1] : Math.Max(high, afterSequence);
        var deleted = new List<long>();
        if (through > afterSequence)
        {
            using var deletions = connection.CreateCommand();
            deletions.Transaction = transaction;
            deletions.CommandText =
                "SELECT sequence FROM records WHERE set_key = $set AND deleted_sequence > $after AND deleted_sequence <= $through ORDER BY deleted_sequence;";
            deletions.Parameters.AddWithValue("$set", set.Key);
            deletions.Parameters.AddWithValue("$after", afterSequence);
            deletions.Parameters.AddWithValue("$through", through);
            using var reader = deletions.ExecuteReader();
            while (reader.Read())
            {
                deleted.Add(reader.GetInt64(0));
            }
        }

        return new RecordChangePage([.. sequences], [.. vectors], [.. datasets], deleted, through, full);
    }

    private static long LastSequence(SqliteConnection connection, SqliteTransaction? transaction, long setKey)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT last_sequence FROM embedding_sets WHERE set_key = $set;";
        command.Parameters.AddWithValue("$set", setKey);
        return command.ExecuteScalar() is long last ? last : 0;
    }
}
