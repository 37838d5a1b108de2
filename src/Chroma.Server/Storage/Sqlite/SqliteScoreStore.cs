using System.Text;
using Chroma.Server.Storage.Internal;
using Chroma.Server.Storage.Sqlite.Internal;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Storage.Sqlite;

/// <summary>
/// <see cref="IRecordScoreStore"/> on a <see cref="SqliteDatabase"/>: the recommendation engine's
/// reads of training and scorable rows, its per-record scores and the drift history. Writes take
/// the database's write lock, so they are serialized with ingest.
/// </summary>
internal sealed partial class SqliteScoreStore : IRecordScoreStore
{
    private const string ScorableColumns = ScorableRowReader.Columns;

    private readonly SqliteDatabase _database;

    /// <summary>Creates the store over <paramref name="database"/>.</summary>
    public SqliteScoreStore(SqliteDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _database = database;
    }

    /// <inheritdoc />
    public TrainingFingerprint ReadTrainingFingerprint(StoredEmbeddingSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        using var connection = _database.OpenReader();
        return ReadFingerprint(connection, null, set.Key);
    }

    /// <inheritdoc />
    public TrainingRows ReadTraining(StoredEmbeddingSet set, bool includeUnlabelled = false)
    {
        ArgumentNullException.ThrowIfNull(set);
        using var connection = _database.OpenReader();
        using var transaction = connection.BeginTransaction(deferred: true);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;

        // Unlabelled training records cannot teach a class, so they are left out of the fit unless asked for.
        command.CommandText = """
            SELECT embedding, label, class_probabilities, predicted_class, class_names FROM records
            WHERE set_key = $set AND dataset = 'training' AND deleted = 0 AND ($all OR label IS NOT NULL)
            ORDER BY sequence;
            """;
        command.Parameters.AddWithValue("$set", set.Key);
        command.Parameters.AddWithValue("$all", includeUnlabelled);

        // The fingerprint first, in the same snapshot: it sizes the rows' array.
        var fingerprint = ReadFingerprint(connection, transaction, set.Key);
        using var reader = command.ExecuteReader();
        return TrainingRowReader.Read(reader, set.Dimension, fingerprint);
    }

    /// <inheritdoc />
    public IReadOnlyList<ScorableRecord> ReadScorable(StoredEmbeddingSet set, long afterSequence, int limit)
    {
        ArgumentNullException.ThrowIfNull(set);
        using var connection = _database.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {ScorableColumns} FROM records r
            WHERE r.set_key = $set AND r.deleted = 0 AND r.dataset <> 'training' AND r.sequence > $after
            ORDER BY r.sequence LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$set", set.Key);
        command.Parameters.AddWithValue("$after", afterSequence);
        command.Parameters.AddWithValue("$limit", limit);
        var records = new List<ScorableRecord>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            records.Add(ScorableRowReader.Read(reader, 0));
        }

        return records;
    }

    /// <inheritdoc />
    public RecentProduction ReadRecentProduction(StoredEmbeddingSet set, int count)
    {
        ArgumentNullException.ThrowIfNull(set);
        using var connection = _database.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT sequence, embedding FROM records
            WHERE set_key = $set AND dataset = 'production' AND deleted = 0
            ORDER BY sequence DESC LIMIT $count;
            """;
        command.Parameters.AddWithValue("$set", set.Key);
        command.Parameters.AddWithValue("$count", count);
        var d = set.Dimension;
        var embeddings = new List<float>();
        var row = new float[d];
        var blob = new byte[d * sizeof(float)];
        long through = 0;
        var rows = 0;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            through = Math.Max(through, reader.GetInt64(0));
            reader.GetBytes(1, 0, blob, 0, blob.Length);
            FloatBlob.CopyTo(blob, row);
            embeddings.AddRange(row);
            rows++;
        }

        return new RecentProduction([.. embeddings], rows, through);
    }

    /// <inheritdoc />
    public IReadOnlyList<PersistedScore> ReadScores(StoredEmbeddingSet set)
    {
        var scores = new List<PersistedScore>();
        VisitScores(set, scores.Add);
        return scores;
    }

    /// <inheritdoc />
    public int VisitScores(StoredEmbeddingSet set, Action<PersistedScore> visitor)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(visitor);
        using var connection = _database.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {ScorableColumns}, s.training_version, s.signals, s.measurement, s.scored_ms
            FROM record_scores s JOIN records r ON r.sequence = s.sequence
            WHERE s.set_key = $set AND r.deleted = 0
            ORDER BY s.sequence;
            """;
        command.Parameters.AddWithValue("$set", set.Key);
        var rows = 0;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            rows++;
            visitor(new PersistedScore(ScorableRowReader.Read(reader, 0), reader.GetString(6), reader.GetString(7), reader.GetString(8), reader.GetInt64(9)));
        }

        return rows;
    }

    /// <inheritdoc />
    public async Task<int> SaveScoresAsync(
        StoredEmbeddingSet set,
        string trainingVersion,
        IReadOnlyList<RecordScoreRow> rows,
        bool replaceExisting,
        ScoringLease? lease = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(trainingVersion);
        ArgumentNullException.ThrowIfNull(rows);
        using var writeLock = await _database.EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        using var transaction = _database.Writer.BeginTransaction();
        if (replaceExisting)
        {
            using var clear = _database.Writer.CreateCommand();
            clear.Transaction = transaction;
            clear.CommandText = "DELETE FROM record_scores WHERE set_key = $set;";
            clear.Parameters.AddWithValue("$set", set.Key);
            clear.ExecuteNonQuery();
        }

        using var insert = _database.Writer.CreateCommand();
        insert.Transaction = transaction;

        // Only live records: a delete that committed after the scores were computed wins.
        insert.CommandText = """
            INSERT OR REPLACE INTO record_scores (set_key, sequence, training_version, score, signals, reasons, measurement, scored_ms)
            SELECT $set, $sequence, $version, $score, $signals, $reasons, $measurement, $now
            WHERE EXISTS (SELECT 1 FROM records WHERE sequence = $sequence AND set_key = $set AND deleted = 0);
            """;
        insert.Parameters.AddWithValue("$set", set.Key);
        insert.Parameters.AddWithValue("$version", trainingVersion);
        insert.Parameters.AddWithValue("$now", _database.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds());
        var sequence = insert.Parameters.Add(new SqliteParameter { ParameterName = "$sequence" });
        var score = insert.Parameters.Add(new SqliteParameter { ParameterName = "$score" });
        var signals = insert.Parameters.Add(new SqliteParameter { ParameterName = "$signals" });
        var reasons = insert.Parameters.Add(new SqliteParameter { ParameterName = "$reasons" });
        var measurement = insert.Parameters.Add(new SqliteParameter { ParameterName = "$measurement" });
        insert.Prepare();
        var stored = 0;
        foreach (var row in rows)
        {
            sequence.Value = row.Sequence;
            score.Value = row.Score;
            signals.Value = row.SignalsJson;
            reasons.Value = row.ReasonsJson;
            measurement.Value = row.MeasurementJson;
            stored += insert.ExecuteNonQuery();
        }

        transaction.Commit();
        return stored;
    }

    /// <inheritdoc />
    public IReadOnlySet<long> SelectSequences(StoredEmbeddingSet set, RecordSelection selection)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(selection);
        using var connection = _database.OpenReader();
        using var command = connection.CreateCommand();
        var sql = new StringBuilder("SELECT r.sequence FROM records r");
        RecordSelectionSql.AppendWhere(sql, command, set.Key, selection);
        command.CommandText = sql.Append(';').ToString();
        var sequences = new HashSet<long>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            sequences.Add(reader.GetInt64(0));
        }

        return sequences;
    }

    private static TrainingFingerprint ReadFingerprint(SqliteConnection connection, SqliteTransaction? transaction, long setKey)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            SELECT COUNT(*), COALESCE(MAX(sequence), 0), COALESCE(SUM(sequence), 0) FROM records
            WHERE set_key = $set AND dataset = 'training' AND deleted = 0;
            """;
        command.Parameters.AddWithValue("$set", setKey);
        using var reader = command.ExecuteReader();
        reader.Read();
        return new TrainingFingerprint(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }
}
