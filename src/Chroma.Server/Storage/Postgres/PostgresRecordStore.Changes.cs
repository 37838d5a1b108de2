using System.Data;
using Chroma.Server.Storage.Internal;
using Npgsql;

namespace Chroma.Server.Storage.Postgres;

/// <summary>
/// Change sequences for indexes that tail the store. Inserts and deletions of a set take their sequences from the
/// set's row under its lock, held to COMMIT, so a set's changes commit in sequence order whichever server writes:
/// a snapshot that sees <c>last_sequence = n</c> sees every change stamped at or below n.
/// </summary>
internal sealed partial class PostgresRecordStore
{
    /// <inheritdoc />
    public long ReadLastSequence(StoredEmbeddingSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        using var connection = _database.OpenConnection();
        return LastSequence(connection, null, set.Key);
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, long> ReadLastSequences()
    {
        using var connection = _database.OpenConnection();
        using var command = new NpgsqlCommand("SELECT set_id, last_sequence FROM embedding_sets;", connection);
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
        using var connection = _database.OpenConnection();

        // One snapshot: the set's change sequence, its inserts and its deletions agree.
        using var transaction = connection.BeginTransaction(IsolationLevel.RepeatableRead);
        var high = LastSequence(connection, transaction, set.Key);
        var dimension = set.Dimension;
        var sequences = new List<long>();
        var datasets = new List<string>();
        var vectors = new List<float>();
        if (high > afterSequence)
        {
            using var inserts = new NpgsqlCommand(
                "SELECT sequence, dataset, embedding FROM records WHERE set_key = $1 AND sequence > $2 AND sequence <= $3 AND NOT deleted ORDER BY sequence LIMIT $4;",
                connection,
                transaction);
            inserts.Parameters.Add(new NpgsqlParameter { Value = set.Key });
            inserts.Parameters.Add(new NpgsqlParameter { Value = afterSequence });
            inserts.Parameters.Add(new NpgsqlParameter { Value = high });
            inserts.Parameters.Add(new NpgsqlParameter { Value = (long)limit });
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
            using var deletions = new NpgsqlCommand(
                "SELECT sequence FROM records WHERE set_key = $1 AND deleted_sequence > $2 AND deleted_sequence <= $3 ORDER BY deleted_sequence;",
                connection,
                transaction);
            deletions.Parameters.Add(new NpgsqlParameter { Value = set.Key });
            deletions.Parameters.Add(new NpgsqlParameter { Value = afterSequence });
            deletions.Parameters.Add(new NpgsqlParameter { Value = through });
            using var reader = deletions.ExecuteReader();
            while (reader.Read())
            {
                deleted.Add(reader.GetInt64(0));
            }
        }

        transaction.Commit();
        return new RecordChangePage([.. sequences], [.. vectors], [.. datasets], deleted, through, full);
    }

    private static long LastSequence(NpgsqlConnection connection, NpgsqlTransaction? transaction, long setKey)
    {
        using var command = new NpgsqlCommand("SELECT last_sequence FROM embedding_sets WHERE set_key = $1;", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = setKey });
        return command.ExecuteScalar() is long last ? last : 0;
    }
}
