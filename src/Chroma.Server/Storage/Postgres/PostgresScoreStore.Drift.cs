using Npgsql;

namespace Chroma.Server.Storage.Postgres;

/// <summary>The bounded drift history of each set.</summary>
internal sealed partial class PostgresScoreStore
{
    /// <inheritdoc />
    public async Task SaveDriftAsync(
        StoredEmbeddingSet set, DriftPoint point, int keep, TimeSpan spacing = default, ScoringLease? lease = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(point);
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(spacing, TimeSpan.Zero);
        using var writeLock = await _database.EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                await CheckLeaseAsync(connection, transaction, lease, cancellationToken).ConfigureAwait(false);
                if (spacing > TimeSpan.Zero)
                {
                    using var replace = new NpgsqlCommand(DriftHistorySpacing.DeleteNewestPostgres, connection, transaction);
                    replace.Parameters.Add(new NpgsqlParameter { Value = set.Key });
                    replace.Parameters.Add(new NpgsqlParameter { Value = (long)spacing.TotalMilliseconds });
                    await replace.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                using (var insert = new NpgsqlCommand("""
                    INSERT INTO drift_history (set_key, computed_ms, mmd2, p_value, training_sample, production_sample, through_sequence)
                    VALUES ($1, $2, $3, $4, $5, $6, $7);
                    """, connection, transaction))
                {
                    insert.Parameters.Add(new NpgsqlParameter { Value = set.Key });
                    insert.Parameters.Add(new NpgsqlParameter { Value = point.ComputedUnixMs });
                    insert.Parameters.Add(new NpgsqlParameter { Value = point.Mmd2 });
                    insert.Parameters.Add(new NpgsqlParameter { Value = point.PValue });
                    insert.Parameters.Add(new NpgsqlParameter { Value = point.TrainingSample });
                    insert.Parameters.Add(new NpgsqlParameter { Value = point.ProductionSample });
                    insert.Parameters.Add(new NpgsqlParameter { Value = point.ThroughSequence });
                    await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                using (var trim = new NpgsqlCommand("""
                    DELETE FROM drift_history WHERE set_key = $1 AND id NOT IN
                        (SELECT id FROM drift_history WHERE set_key = $1 ORDER BY computed_ms DESC, id DESC LIMIT $2);
                    """, connection, transaction))
                {
                    trim.Parameters.Add(new NpgsqlParameter { Value = set.Key });
                    trim.Parameters.Add(new NpgsqlParameter { Value = (long)keep });
                    await trim.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<DriftPoint> ReadDriftHistory(StoredEmbeddingSet set, int limit)
    {
        ArgumentNullException.ThrowIfNull(set);
        using var connection = _database.OpenConnection();
        using var command = new NpgsqlCommand("""
            SELECT computed_ms, mmd2, p_value, training_sample, production_sample, through_sequence FROM drift_history
            WHERE set_key = $1 ORDER BY computed_ms DESC, id DESC LIMIT $2;
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = set.Key });
        command.Parameters.Add(new NpgsqlParameter { Value = (long)limit });
        var points = new List<DriftPoint>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            points.Add(new DriftPoint(reader.GetInt64(0), reader.GetDouble(1), reader.GetDouble(2), reader.GetInt32(3), reader.GetInt32(4), reader.GetInt64(5)));
        }

        points.Reverse();
        return points;
    }
}
