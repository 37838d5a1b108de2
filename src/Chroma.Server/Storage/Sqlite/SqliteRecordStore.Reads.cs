using System.Text;
using System.Text.Json;
using Chroma.Protocol.V1;
using Chroma.Server.Storage.Internal;
using Chroma.Server.Storage.Sqlite.Internal;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Storage.Sqlite;

/// <summary>Queries: each opens a pooled reader connection and sees the last committed state.</summary>
internal sealed partial class SqliteRecordStore
{
    /// <inheritdoc />
    public IReadOnlyList<EmbeddingSetSummary> ListSets()
    {
        using var connection = _database.OpenReader();
        using var transaction = connection.BeginTransaction(deferred: true);
        var sets = new List<(StoredEmbeddingSet Set, long Created, long Updated, long LastSequence)>();
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText =
                "SELECT set_key, set_id, model, model_version, layer, dimension, created_ms, updated_ms, metric, last_sequence FROM embedding_sets ORDER BY set_id;";
            using var reader = command.ExecuteReader();
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

        return result;
    }

    /// <summary>One set's live records per dataset, in the snapshot of <see cref="ListSets"/>'s transaction.</summary>
    private sealed class DatasetChanges(SqliteConnection connection, SqliteTransaction transaction, long setKey) : LiveDatasetCounts.IChanges
    {
        public IEnumerable<KeyValuePair<string, long>> CountAll() =>
            Count("SELECT dataset, COUNT(*) FROM records WHERE set_key = $set AND deleted = 0 GROUP BY dataset;", 0);

        public IEnumerable<KeyValuePair<string, long>> CountInsertedAfter(long sequence) =>
            // By the sequence index: the planner took the dataset index for the grouping and read the whole set.
            Count(
                "SELECT dataset, COUNT(*) FROM records INDEXED BY records_by_set_sequence WHERE set_key = $set AND sequence > $after AND deleted = 0 GROUP BY dataset;",
                sequence);

        public IEnumerable<KeyValuePair<string, long>> CountDeletedAfter(long sequence) =>
            Count(
                "SELECT dataset, COUNT(*) FROM records WHERE set_key = $set AND deleted_sequence > $after AND sequence <= $after GROUP BY dataset;",
                sequence);

        private List<KeyValuePair<string, long>> Count(string sql, long after)
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            command.Parameters.AddWithValue("$set", setKey);
            command.Parameters.AddWithValue("$after", after);
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
        using var connection = _database.OpenReader();
        using var command = connection.CreateCommand();
        var sql = new StringBuilder("SELECT ").Append(StoredRecordReader.SelectList(query.IncludeEmbeddings)).Append(" FROM records r");
        RecordSelectionSql.AppendWhere(sql, command, set.Key, query.Selection);
        sql.Append(" AND r.sequence > $after ORDER BY r.sequence LIMIT $limit;");
        command.Parameters.AddWithValue("$after", query.AfterSequence);
        command.Parameters.AddWithValue("$limit", query.Limit + 1); // one more says whether a next page exists
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
        var found = ReadWhereIn(set, "r.record_id", JsonSerializer.Serialize(ids), includeEmbeddings)
            .ToDictionary(r => r.Record.Id, StringComparer.Ordinal);
        return [.. ids.Where(found.ContainsKey).Select(id => found[id])];
    }

    /// <inheritdoc />
    public IReadOnlyList<StoredRecord> GetRecordsBySequence(StoredEmbeddingSet set, IReadOnlyList<long> sequences, bool includeEmbeddings)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(sequences);
        var found = ReadWhereIn(set, "r.sequence", JsonSerializer.Serialize(sequences), includeEmbeddings)
            .ToDictionary(r => r.Sequence);
        return [.. sequences.Where(found.ContainsKey).Select(s => found[s])];
    }

    /// <inheritdoc />
    public long CountRecords(StoredEmbeddingSet set, RecordSelection selection)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(selection);
        using var connection = _database.OpenReader();
        using var command = connection.CreateCommand();
        var sql = new StringBuilder("SELECT COUNT(*) FROM records r");
        RecordSelectionSql.AppendWhere(sql, command, set.Key, selection);
        command.CommandText = sql.Append(';').ToString();
        return (long)command.ExecuteScalar()!;
    }

    /// <inheritdoc />
    public long ReadVectors(StoredEmbeddingSet set, StoredVectorVisitor visitor, long afterSequence = 0)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(visitor);
        using var connection = _database.OpenReader();

        // One read transaction: the vectors and the high-water mark come from the same snapshot.
        using var transaction = connection.BeginTransaction(deferred: true);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText =
            "SELECT sequence, dataset, embedding FROM records WHERE set_key = $set AND deleted = 0 AND sequence > $after ORDER BY sequence;";
        command.Parameters.AddWithValue("$set", set.Key);
        command.Parameters.AddWithValue("$after", afterSequence);
        var vector = new float[set.Dimension];
        var blob = new byte[set.Dimension * sizeof(float)];
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                reader.GetBytes(2, 0, blob, 0, blob.Length);
                FloatBlob.CopyTo(blob, vector);
                visitor(reader.GetInt64(0), vector, reader.GetString(1));
            }
        }

        using var highWater = connection.CreateCommand();
        highWater.Transaction = transaction;
        highWater.CommandText = "SELECT last_sequence FROM embedding_sets WHERE set_key = $set;";
        highWater.Parameters.AddWithValue("$set", set.Key);
        return highWater.ExecuteScalar() is long last ? last : 0;
    }

    /// <inheritdoc />
    public IReadOnlyList<long> ReadDeletedSequences(StoredEmbeddingSet set, long throughSequence)
    {
        ArgumentNullException.ThrowIfNull(set);
        using var connection = _database.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sequence FROM records WHERE set_key = $set AND deleted = 1 AND sequence <= $through;";
        command.Parameters.AddWithValue("$set", set.Key);
        command.Parameters.AddWithValue("$through", throughSequence);
        var sequences = new List<long>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            sequences.Add(reader.GetInt64(0));
        }

        return sequences;
    }

    private List<StoredRecord> ReadWhereIn(StoredEmbeddingSet set, string column, string jsonValues, bool includeEmbeddings)
    {
        using var connection = _database.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {StoredRecordReader.SelectList(includeEmbeddings)} FROM records r " +
            $"WHERE r.set_key = $set AND r.deleted = 0 AND {column} IN (SELECT value FROM json_each($values));";
        command.Parameters.AddWithValue("$set", set.Key);
        command.Parameters.AddWithValue("$values", jsonValues);
        var records = new List<StoredRecord>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            records.Add(StoredRecordReader.Read(reader, set.SetId, includeEmbeddings));
        }

        return records;
    }
}
