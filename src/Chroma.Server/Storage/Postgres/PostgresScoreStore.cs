using System.Data;
using System.Globalization;
using System.Text;
using Chroma.Server.Storage.Internal;
using Chroma.Server.Storage.Postgres.Internal;
using Npgsql;
using NpgsqlTypes;

namespace Chroma.Server.Storage.Postgres;

/// <summary>
/// <see cref="IRecordScoreStore"/> on a <see cref="PostgresDatabase"/>: the recommendation engine's
/// reads of training and scorable rows, its per-record scores and the drift history.
/// Writes take this server's write lock, as on SQLite, so a delete and a score save never interleave.
/// </summary>
internal sealed partial class PostgresScoreStore : IRecordScoreStore, IScoreChangeReader
{
    private const string ScorableColumns = ScorableRowReader.Columns;

    private readonly PostgresDatabase _database;

    /// <summary>Creates the store over <paramref name="database"/>.</summary>
    public PostgresScoreStore(PostgresDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _database = database;
    }

    /// <inheritdoc />
    public TrainingFingerprint ReadTrainingFingerprint(StoredEmbeddingSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        using var connection = _database.OpenConnection();
        return ReadFingerprint(connection, null, set.Key);
    }

    /// <inheritdoc />
    public TrainingRows ReadTraining(StoredEmbeddingSet set, bool includeUnlabelled = false)
    {
        ArgumentNullException.ThrowIfNull(set);
        using var connection = _database.OpenConnection();
        using var transaction = connection.BeginTransaction(IsolationLevel.RepeatableRead);

        // The fingerprint first, in the same snapshot: it sizes the rows' array.
        var fingerprint = ReadFingerprint(connection, transaction, set.Key);

        // Unlabelled training records cannot teach a class, so they are left out of the fit unless asked for. The
        // probabilities calibrate the uncertainty signals; the predicted classes are what the held-out rows' boundary
        // signal is read against.
        TrainingRows rows;
        using (var command = new NpgsqlCommand("""
            SELECT embedding, label, class_probabilities, predicted_class, class_names FROM records
            WHERE set_key = $1 AND dataset = 'training' AND NOT deleted AND ($2 OR label IS NOT NULL)
            ORDER BY sequence;
            """, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = set.Key });
            command.Parameters.Add(new NpgsqlParameter { Value = includeUnlabelled });
            using var reader = command.ExecuteReader();
            rows = TrainingRowReader.Read(reader, set.Dimension, fingerprint);
        }

        transaction.Commit();
        return rows;
    }

    /// <inheritdoc />
    public IReadOnlyList<ScorableRecord> ReadScorable(StoredEmbeddingSet set, long afterSequence, int limit)
    {
        ArgumentNullException.ThrowIfNull(set);
        using var connection = _database.OpenConnection();
        using var command = new NpgsqlCommand($"""
            SELECT {ScorableColumns} FROM records r
            WHERE r.set_key = $1 AND NOT r.deleted AND r.dataset <> 'training' AND r.sequence > $2
            ORDER BY r.sequence LIMIT $3;
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = set.Key });
        command.Parameters.Add(new NpgsqlParameter { Value = afterSequence });
        command.Parameters.Add(new NpgsqlParameter { Value = (long)limit });
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
        using var connection = _database.OpenConnection();
        using var command = new NpgsqlCommand("""
            SELECT sequence, embedding FROM records
            WHERE set_key = $1 AND dataset = 'production' AND NOT deleted
            ORDER BY sequence DESC LIMIT $2;
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = set.Key });
        command.Parameters.Add(new NpgsqlParameter { Value = (long)count });
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
        var rows = 0;
        VisitScores(set, afterStamp: null, score =>
        {
            rows++;
            visitor(score);
        });
        return rows;
    }

    /// <inheritdoc />
    public long ReadLatestScoreStamp(StoredEmbeddingSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        using var connection = _database.OpenConnection();
        using var command = new NpgsqlCommand("SELECT coalesce(max(stamp), 0) FROM record_scores WHERE set_key = $1;", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = set.Key });
        return (long)command.ExecuteScalar()!;
    }

    /// <inheritdoc />
    public long VisitScoresChangedAfter(StoredEmbeddingSet set, long afterStamp, Action<PersistedScore> visitor) =>
        VisitScores(set, afterStamp, visitor);

    // Every live score in sequence order, or (afterStamp given) those written after it; returns the highest stamp read,
    // or afterStamp (0 without one) when none was.
    private long VisitScores(StoredEmbeddingSet set, long? afterStamp, Action<PersistedScore> visitor)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(visitor);
        using var connection = _database.OpenConnection();
        using var command = new NpgsqlCommand($"""
            SELECT {ScorableColumns}, s.training_version, s.signals, s.measurement, s.scored_ms, s.stamp
            FROM record_scores s JOIN records r ON r.set_key = s.set_key AND r.sequence = s.sequence
            WHERE s.set_key = $1 AND NOT r.deleted{(afterStamp is null ? string.Empty : " AND s.stamp > $2")}
            ORDER BY s.sequence;
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = set.Key });
        if (afterStamp is { } after)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = after });
        }

        var latest = afterStamp ?? 0;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            latest = Math.Max(latest, reader.GetInt64(10));
            visitor(new PersistedScore(ScorableRowReader.Read(reader, 0), reader.GetString(6), reader.GetString(7), reader.GetString(8), reader.GetInt64(9)));
        }

        return latest;
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

        // The last row of a sequence wins, as INSERT OR REPLACE does on SQLite (one statement may not update a row twice).
        var latest = new Dictionary<long, RecordScoreRow>();
        foreach (var row in rows)
        {
            latest[row.Sequence] = row;
        }

        var unique = latest.Values.ToArray();
        using var writeLock = await _database.EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                await CheckLeaseAsync(connection, transaction, lease, cancellationToken).ConfigureAwait(false);

                // Taken after the lease check: a write of a holder that lost the set cannot take a stamp after the new
                // holder's, so the set's stamps grow in commit order (IScoreChangeReader).
                using var stamping = new NpgsqlCommand("SELECT nextval('record_score_stamps');", connection, transaction);
                var stamp = (long)(await stamping.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
                if (replaceExisting)
                {
                    using var clear = new NpgsqlCommand("DELETE FROM record_scores WHERE set_key = $1;", connection, transaction);
                    clear.Parameters.Add(new NpgsqlParameter { Value = set.Key });
                    await clear.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                // Only live records: a delete that committed after the scores were computed wins (FOR SHARE
                // holds the record rows until COMMIT, so a delete on another server waits for this save).
                using var insert = new NpgsqlCommand("""
                    INSERT INTO record_scores (set_key, sequence, training_version, score, signals, reasons, measurement, scored_ms, stamp)
                    SELECT $1, u.sequence, $2, u.score, u.signals, u.reasons, u.measurement, $3, $9
                    FROM unnest($4::bigint[], $5::double precision[], $6::text[], $7::text[], $8::text[])
                         AS u (sequence, score, signals, reasons, measurement)
                    WHERE u.sequence IN (SELECT r.sequence FROM records r
                                         WHERE r.set_key = $1 AND NOT r.deleted AND r.sequence = ANY($4) FOR SHARE)
                    ON CONFLICT (set_key, sequence) DO UPDATE SET
                        training_version = EXCLUDED.training_version, score = EXCLUDED.score, signals = EXCLUDED.signals,
                        reasons = EXCLUDED.reasons, measurement = EXCLUDED.measurement, scored_ms = EXCLUDED.scored_ms,
                        stamp = EXCLUDED.stamp;
                    """, connection, transaction);
                insert.Parameters.Add(new NpgsqlParameter { Value = set.Key });
                insert.Parameters.Add(new NpgsqlParameter { Value = trainingVersion });
                insert.Parameters.Add(new NpgsqlParameter { Value = _database.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds() });
                insert.Parameters.Add(new NpgsqlParameter { Value = unique.Select(r => r.Sequence).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
                insert.Parameters.Add(new NpgsqlParameter { Value = unique.Select(r => r.Score).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double });
                insert.Parameters.Add(new NpgsqlParameter { Value = unique.Select(r => r.SignalsJson).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
                insert.Parameters.Add(new NpgsqlParameter { Value = unique.Select(r => r.ReasonsJson).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
                insert.Parameters.Add(new NpgsqlParameter { Value = unique.Select(r => r.MeasurementJson).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
                insert.Parameters.Add(new NpgsqlParameter { Value = stamp });
                var stored = await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return stored;
            }
        }
    }

    /// <inheritdoc />
    public IReadOnlySet<long> SelectSequences(StoredEmbeddingSet set, RecordSelection selection)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(selection);
        using var connection = _database.OpenConnection();
        using var command = new NpgsqlCommand { Connection = connection };
        var sql = new StringBuilder("SELECT r.sequence FROM records r");
        PostgresSelection.AppendWhere(sql, command, set.Key, selection);
        command.CommandText = sql.Append(';').ToString();
        var sequences = new HashSet<long>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            sequences.Add(reader.GetInt64(0));
        }

        return sequences;
    }

    /// <summary>
    /// Fails the write unless <paramref name="lease"/> (when given) is still the set's current generation. FOR SHARE holds
    /// the lease row until COMMIT: a replica taking the set over waits for this write, and a write after a takeover finds
    /// the newer generation and is refused.
    /// </summary>
    internal static async Task CheckLeaseAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ScoringLease? lease, CancellationToken cancellationToken)
    {
        if (lease is null)
        {
            return;
        }

        using var command = new NpgsqlCommand(
            "SELECT generation FROM scoring_leases WHERE set_key = $1 AND holder = $2 AND generation = $3 FOR SHARE;", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = lease.SetKey });
        command.Parameters.Add(new NpgsqlParameter { Value = lease.Holder });
        command.Parameters.Add(new NpgsqlParameter { Value = lease.Generation });
        if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not long)
        {
            throw new ScoringLeaseLostException(string.Create(CultureInfo.InvariantCulture,
                $"The scoring lease of set {lease.SetKey} (generation {lease.Generation}, holder {lease.Holder}) was taken over; the write was refused."));
        }
    }

    private static TrainingFingerprint ReadFingerprint(NpgsqlConnection connection, NpgsqlTransaction? transaction, long setKey)
    {
        using var command = new NpgsqlCommand("""
            SELECT COUNT(*), COALESCE(MAX(sequence), 0), COALESCE(SUM(sequence), 0)::bigint FROM records
            WHERE set_key = $1 AND dataset = 'training' AND NOT deleted;
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = setKey });
        using var reader = command.ExecuteReader();
        reader.Read();
        return new TrainingFingerprint(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }
}
