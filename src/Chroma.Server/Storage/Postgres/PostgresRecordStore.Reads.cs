using System.Data;
using System.Text;
using Chroma.Protocol.V1;
using Chroma.Server.Storage.Internal;
using Chroma.Server.Storage.Postgres.Internal;
using Npgsql;
using NpgsqlTypes;

namespace Chroma.Server.Storage.Postgres;

/// <summary>Queries: each takes a pooled connection and sees committed data; multi-statement reads share one snapshot.</summary>
internal sealed partial class PostgresRecordStore
{
    /// <inheritdoc />
    public IReadOnlyList<EmbeddingSetSummary> ListSets()
    {
        using var connection = _database.OpenConnection();
        using var transaction = connection.BeginTransaction(IsolationLevel.RepeatableRead);
        var sets = new List<(StoredEmbeddingSet Set, long Created, long Updated, long LastSequence)>();
        using (var command = new NpgsqlCommand(
            "SELECT set_key, set_id, model, model_version, layer, dimension, created_ms, updated_ms, metric, last_sequence FROM embedding_sets ORDER BY set_id COLLATE \"C\";",
            connection,
            transaction))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var descriptor = new EmbeddingSetDescriptor
                {
                    Model = reader.GetString(2),
                    ModelVersion = reader.GetString(3),
                    Layer = reader.GetString(4),
                    Dimension = reader.GetInt32(5),
                    Metric = SetMetrics.Parse(reader.GetString(8)),
                };
                var set = new StoredEmbeddingSet(reader.GetInt64(0), reader.GetString(1), descriptor);
                sets.Add((set, reader.GetInt64(6), reader.GetInt64(7), reader.GetInt64(9)));
            }
        }

        var result = new List<EmbeddingSetSummary>(sets.Count);
        foreach (var (set, created, updated, lastSequence) in sets)
        {
            var counts = _datasetCounts.Read(set.Key, lastSequence, new DatasetChanges(connection, transaction, set.Key));
            result.Add(new EmbeddingSetSummary(set, counts, created, updated));
        }

        transaction.Commit();
        return result;
    }

    /// <summary>One set's live records per dataset, in the snapshot of <see cref="ListSets"/>'s transaction.</summary>
    private sealed class DatasetChanges(NpgsqlConnection connection, NpgsqlTransaction transaction, long setKey) : LiveDatasetCounts.IChanges
    {
        public IEnumerable<KeyValuePair<string, long>> CountAll() =>
            Count("SELECT dataset, COUNT(*) FROM records WHERE set_key = $1 AND NOT deleted GROUP BY dataset;", null);

        public IEnumerable<KeyValuePair<string, long>> CountInsertedAfter(long sequence) =>
            Count("SELECT dataset, COUNT(*) FROM records WHERE set_key = $1 AND sequence > $2 AND NOT deleted GROUP BY dataset;", sequence);

        public IEnumerable<KeyValuePair<string, long>> CountDeletedAfter(long sequence) =>
            Count("SELECT dataset, COUNT(*) FROM records WHERE set_key = $1 AND deleted_sequence > $2 AND sequence <= $2 GROUP BY dataset;", sequence);

        private List<KeyValuePair<string, long>> Count(string sql, long? after)
        {
            using var command = new NpgsqlCommand(sql, connection, transaction);
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = setKey });
            if (after is { } sequence)
            {
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = sequence });
            }

            var counts = new List<KeyValuePair<string, long>>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                counts.Add(new(reader.GetString(0), reader.GetInt64(1)));
            }

            return counts;
        }
    }

    /// <inheritdoc />
    public RecordPage GetRecords(StoredEmbeddingSet set, RecordQuery query)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(query);
        using var connection = _database.OpenConnection();
        using var command = new NpgsqlCommand { Connection = connection };
        var sql = new StringBuilder("SELECT ").Append(StoredRecordReader.SelectList(query.IncludeEmbeddings)).Append(" FROM records r");
        PostgresSelection.AppendWhere(sql, command, set.Key, query.Selection);
        sql.Append(" AND r.sequence > ").Append(PostgresSelection.Add(command, query.AfterSequence))
            .Append(" ORDER BY r.sequence LIMIT ").Append(PostgresSelection.Add(command, (long)query.Limit + 1)).Append(';');
        command.CommandText = sql.ToString();

        var records = new List<StoredRecord>(query.Limit);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            if (records.Count == query.Limit)
            {
                return new RecordPage(records, HasMore: true);
            }

            records.Add(StoredRecordReader.Read(reader, set.SetId, query.IncludeEmbeddings));
        }

        return new RecordPage(records, HasMore: false);
    }

    /// <inheritdoc />
    public IReadOnlyList<StoredRecord> GetRecordsByIds(StoredEmbeddingSet set, IReadOnlyList<string> ids, bool includeEmbeddings)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(ids);
        var found = ReadWhereAny(set, "r.record_id", ids.ToArray(), NpgsqlDbType.Text, includeEmbeddings)
            .ToDictionary(r => r.Record.Id, StringComparer.Ordinal);
        return [.. ids.Where(found.ContainsKey).Select(id => found[id])];
    }

    /// <inheritdoc />
    public IReadOnlyList<StoredRecord> GetRecordsBySequence(StoredEmbeddingSet set, IReadOnlyList<long> sequences, bool includeEmbeddings)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(sequences);
        var found = ReadWhereAny(set, "r.sequence", sequences.ToArray(), NpgsqlDbType.Bigint, includeEmbeddings)
            .ToDictionary(r => r.Sequence);
        return [.. sequences.Where(found.ContainsKey).Select(s => found[s])];
    }

    /// <inheritdoc />
    public long CountRecords(StoredEmbeddingSet set, RecordSelection selection)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(selection);
        using var connection = _database.OpenConnection();
        using var command = new NpgsqlCommand { Connection = connection };
        var sql = new StringBuilder("SELECT COUNT(*) FROM records r");
        PostgresSelection.AppendWhere(sql, command, set.Key, selection);
        command.CommandText = sql.Append(';').ToString();
        return (long)command.ExecuteScalar()!;
    }

    /// <inheritdoc />
    public long ReadVectors(StoredEmbeddingSet set, StoredVectorVisitor visitor, long afterSequence = 0)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(visitor);
        using var connection = _database.OpenConnection();

        // One snapshot: the vectors and the set's last issued sequence agree.
        using var transaction = connection.BeginTransaction(IsolationLevel.RepeatableRead);
        using (var command = new NpgsqlCommand(
            "SELECT sequence, dataset, embedding FROM records WHERE set_key = $1 AND NOT deleted AND sequence > $2 ORDER BY sequence;",
            connection,
            transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = set.Key });
            command.Parameters.Add(new NpgsqlParameter { Value = afterSequence });
            var vector = new float[set.Dimension];
            var blob = new byte[set.Dimension * sizeof(float)];
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                reader.GetBytes(2, 0, blob, 0, blob.Length);
                FloatBlob.CopyTo(blob, vector);
                visitor(reader.GetInt64(0), vector, reader.GetString(1));
            }
        }

        using var highWater = new NpgsqlCommand("SELECT last_sequence FROM embedding_sets WHERE set_key = $1;", connection, transaction);
        highWater.Parameters.Add(new NpgsqlParameter { Value = set.Key });
        var through = highWater.ExecuteScalar() is long last ? last : 0;
        transaction.Commit();
        return through;
    }

    /// <inheritdoc />
    public IReadOnlyList<long> ReadDeletedSequences(StoredEmbeddingSet set, long throughSequence)
    {
        ArgumentNullException.ThrowIfNull(set);
        using var connection = _database.OpenConnection();
        using var command = new NpgsqlCommand(
            "SELECT sequence FROM records WHERE set_key = $1 AND deleted AND sequence <= $2 ORDER BY sequence;", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = set.Key });
        command.Parameters.Add(new NpgsqlParameter { Value = throughSequence });
        var sequences = new List<long>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            sequences.Add(reader.GetInt64(0));
        }

        return sequences;
    }

    private List<StoredRecord> ReadWhereAny(StoredEmbeddingSet set, string column, Array values, NpgsqlDbType elementType, bool includeEmbeddings)
    {
        using var connection = _database.OpenConnection();
        using var command = new NpgsqlCommand(
            $"SELECT {StoredRecordReader.SelectList(includeEmbeddings)} FROM records r WHERE r.set_key = $1 AND NOT r.deleted AND {column} = ANY($2);",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = set.Key });
        command.Parameters.Add(new NpgsqlParameter { Value = values, NpgsqlDbType = NpgsqlDbType.Array | elementType });
        var records = new List<StoredRecord>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            records.Add(StoredRecordReader.Read(reader, set.SetId, includeEmbeddings));
        }

        return records;
    }
}
