using System.Globalization;
using Chroma.Server.Storage.Postgres.Internal;
using Npgsql;

namespace Chroma.Server.Storage.Postgres;

/// <summary>
/// <see cref="IReplicaCoordination"/> on the shared PostgreSQL database: scoring leases in <c>scoring_leases</c>
/// (expiry from the replica's clock, so replica clocks must agree well within the lease duration; correctness does
/// not depend on it, since every score write checks the generation in its own transaction), retention runs in
/// <c>retention_runs</c> and an advisory lock so one replica at a time applies retention. Published passes and waiting
/// requests are announced on <see cref="PostgresScoringNotice.Channel"/>.
/// </summary>
internal sealed class PostgresReplicaCoordination : IReplicaCoordination
{
    /// <summary>The advisory lock key of the retention run ("chromr" in ASCII).</summary>
    public const long RetentionLockKey = 0x6368726F6D72;

    private readonly PostgresDatabase _database;

    /// <summary>Creates the coordination over <paramref name="database"/>.</summary>
    public PostgresReplicaCoordination(PostgresDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _database = database;
    }

    /// <inheritdoc />
    public bool Shared => true;

    /// <inheritdoc />
    public async Task<ScoringLease?> TryAcquireAsync(StoredEmbeddingSet set, string holder, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(holder);
        var now = Now();
        var expires = now + (long)duration.TotalMilliseconds;
        return await RunAsync(async connection =>
        {
            // Taken when free, expired or already ours; a new holder raises the generation (the fencing token).
            using var command = new NpgsqlCommand("""
                INSERT INTO scoring_leases AS l (set_key, holder, expires_ms, generation) VALUES ($1, $2, $4, 1)
                ON CONFLICT (set_key) DO UPDATE SET
                    holder = EXCLUDED.holder,
                    expires_ms = EXCLUDED.expires_ms,
                    generation = CASE WHEN l.holder = EXCLUDED.holder THEN l.generation ELSE l.generation + 1 END
                WHERE l.holder = EXCLUDED.holder OR l.expires_ms <= $3
                RETURNING generation;
                """, connection);
            command.Parameters.Add(new NpgsqlParameter { Value = set.Key });
            command.Parameters.Add(new NpgsqlParameter { Value = holder });
            command.Parameters.Add(new NpgsqlParameter { Value = now });
            command.Parameters.Add(new NpgsqlParameter { Value = expires });
            var generation = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return generation is long g ? new ScoringLease(set.Key, holder, g, expires) : null;
        }, "take the scoring lease", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<bool> RenewAsync(ScoringLease lease, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var expires = Now() + (long)duration.TotalMilliseconds;
        return await UpdateLeaseAsync(lease, "expires_ms = $4", expires, "renew the scoring lease", cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <inheritdoc />
    public Task ReleaseAsync(ScoringLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return UpdateLeaseAsync(lease, "expires_ms = LEAST(expires_ms, $4)", 0, "release the scoring lease", cancellationToken);
    }

    /// <inheritdoc />
    public async Task<long?> PublishPassAsync(ScoringLease lease, long coveredThrough, long deletesApplied, long computedUnixMs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return await RunAsync(async connection =>
        {
            // One statement: the notice goes out with the commit of the new revision, and only when the lease allowed it.
            using var command = new NpgsqlCommand($"""
                WITH published AS (
                    UPDATE scoring_leases SET scores_revision = scores_revision + 1, covered_through = GREATEST(covered_through, $4),
                        deletes_applied = GREATEST(deletes_applied, $5), failure_message = NULL, failure_count = 0, computed_ms = $7
                    WHERE set_key = $1 AND holder = $2 AND generation = $3
                    RETURNING scores_revision)
                SELECT scores_revision, {PostgresScoringNotice.RankingNotifySql("$6", "$1", "scores_revision")} FROM published;
                """, connection);
            AddLease(command, lease);
            command.Parameters.Add(new NpgsqlParameter { Value = coveredThrough });
            command.Parameters.Add(new NpgsqlParameter { Value = deletesApplied });
            command.Parameters.Add(new NpgsqlParameter { Value = PostgresScoringNotice.Channel });
            command.Parameters.Add(new NpgsqlParameter { Value = computedUnixMs });
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long revision ? revision : (long?)null;
        }, "publish the scoring pass", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task RecordFailureAsync(ScoringLease lease, Recommendations.Scheduling.ScoringFailure failure, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(failure);
        await RunAsync(async connection =>
        {
            using var command = new NpgsqlCommand("""
                UPDATE scoring_leases SET failure_message = $4, failure_ms = $5, failure_count = $6, failure_stored_at_start = $7,
                    failure_deletes_at_start = $8
                WHERE set_key = $1 AND holder = $2 AND generation = $3;
                """, connection);
            AddLease(command, lease);
            command.Parameters.Add(new NpgsqlParameter { Value = failure.Message });
            command.Parameters.Add(new NpgsqlParameter { Value = failure.FailedAt.ToUnixTimeMilliseconds() });
            command.Parameters.Add(new NpgsqlParameter { Value = failure.ConsecutiveFailures });
            command.Parameters.Add(new NpgsqlParameter { Value = failure.StoredAtStart });
            command.Parameters.Add(new NpgsqlParameter { Value = failure.DeletesAtStart });
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, "record the failed scoring pass", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task RequestPassAsync(StoredEmbeddingSet set, long throughSequence, long throughDeletes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        await RunAsync(async connection =>
        {
            await PostgresScoringNotice.SendWantedAsync(connection, set.Key, throughSequence, throughDeletes, cancellationToken).ConfigureAwait(false);
            return 0;
        }, "announce a waiting request", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public IReadOnlyList<SetWatermark> ReadWatermarks()
    {
        using var connection = _database.OpenConnection();
        using var command = new NpgsqlCommand("""
            SELECT s.set_key, s.set_id, s.last_sequence, s.deleted_count, COALESCE(l.scores_revision, 0), COALESCE(l.covered_through, -1),
                   l.holder, COALESCE(l.expires_ms, 0), COALESCE(l.generation, 0), COALESCE(l.deletes_applied, 0),
                   l.failure_message, COALESCE(l.failure_ms, 0), COALESCE(l.failure_count, 0), COALESCE(l.failure_stored_at_start, 0),
                   COALESCE(l.failure_deletes_at_start, 0), COALESCE(l.computed_ms, 0)
            FROM embedding_sets s LEFT JOIN scoring_leases l ON l.set_key = s.set_key
            ORDER BY s.set_key;
            """, connection);
        var marks = new List<SetWatermark>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            marks.Add(new SetWatermark(
                reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetInt64(7), reader.GetInt64(8), reader.GetInt64(9))
            {
                ComputedUnixMs = reader.GetInt64(15),
                Failure = reader.IsDBNull(10) ? null : new Recommendations.Scheduling.ScoringFailure(
                    reader.GetString(10), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(11)), reader.GetInt32(12), reader.GetInt64(13), reader.GetInt64(14)),
            });
        }

        return marks;
    }

    /// <inheritdoc />
    public async Task<SetDeletes> ReadDeletesAsync(StoredEmbeddingSet set, long afterStamp, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        return await RunAsync(async connection =>
        {
            // One statement, one snapshot: the stamp, the count and the deleted rows agree (records_deleted_by_set serves the rows).
            using var command = new NpgsqlCommand("""
                SELECT s.last_sequence, s.deleted_count,
                       ARRAY(SELECT r.sequence FROM records r
                             WHERE r.set_key = s.set_key AND r.deleted_sequence > $2 AND r.deleted_sequence <= s.last_sequence)
                FROM embedding_sets s WHERE s.set_key = $1;
                """, connection);
            command.Parameters.Add(new NpgsqlParameter { Value = set.Key });
            command.Parameters.Add(new NpgsqlParameter { Value = afterStamp });
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return new SetDeletes(0, 0, []);
                }

                return new SetDeletes(reader.GetInt64(0), reader.GetInt64(1), reader.GetFieldValue<long[]>(2));
            }
        }, "read the set's deletes", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<SetAcknowledged> ReadAcknowledgedAsync(StoredEmbeddingSet set, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        return await RunAsync(async connection =>
        {
            // The newest record is the last entry of the primary key (set_key, sequence) under the set: one index probe.
            // Deleted records keep their row, so it is the newest record ever stored (a delete's stamp is no record).
            using var command = new NpgsqlCommand("""
                SELECT COALESCE((SELECT r.sequence FROM records r WHERE r.set_key = s.set_key ORDER BY r.sequence DESC LIMIT 1), 0),
                       s.deleted_count, COALESCE((SELECT l.scores_revision FROM scoring_leases l WHERE l.set_key = s.set_key), 0)
                FROM embedding_sets s WHERE s.set_key = $1;
                """, connection);
            command.Parameters.Add(new NpgsqlParameter { Value = set.Key });
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                    ? new SetAcknowledged(reader.GetInt64(0), reader.GetInt64(1)) { ScoresRevision = reader.GetInt64(2) }
                    : new SetAcknowledged(0, 0);
            }
        }, "read what the set holds", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IAsyncDisposable?> TryEnterRetentionAsync(CancellationToken cancellationToken = default)
    {
        var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = new NpgsqlCommand(
                string.Create(CultureInfo.InvariantCulture, $"SELECT pg_try_advisory_lock({RetentionLockKey});"), connection);
            if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true)
            {
                return new RetentionLock(connection);
            }
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        await connection.DisposeAsync().ConfigureAwait(false);
        return null;
    }

    /// <inheritdoc />
    public async Task SaveRetentionRunAsync(RetentionRun run, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        await RunAsync(async connection =>
        {
            using var command = new NpgsqlCommand("""
                INSERT INTO retention_runs (set_key, dataset, ran_ms, deleted, deleted_total) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (set_key, dataset) DO UPDATE SET
                    ran_ms = EXCLUDED.ran_ms, deleted = EXCLUDED.deleted, deleted_total = retention_runs.deleted_total + EXCLUDED.deleted;
                """, connection);
            command.Parameters.Add(new NpgsqlParameter { Value = run.SetKey });
            command.Parameters.Add(new NpgsqlParameter { Value = run.Dataset });
            command.Parameters.Add(new NpgsqlParameter { Value = run.RanUnixMs });
            command.Parameters.Add(new NpgsqlParameter { Value = run.Deleted });
            command.Parameters.Add(new NpgsqlParameter { Value = run.Deleted });
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, "store the retention run", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public IReadOnlyList<RetentionRun> ReadRetentionRuns()
    {
        using var connection = _database.OpenConnection();
        using var command = new NpgsqlCommand("SELECT set_key, dataset, ran_ms, deleted, deleted_total FROM retention_runs;", connection);
        var runs = new List<RetentionRun>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            runs.Add(new RetentionRun(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)));
        }

        return runs;
    }

    private static void AddLease(NpgsqlCommand command, ScoringLease lease)
    {
        command.Parameters.Add(new NpgsqlParameter { Value = lease.SetKey });
        command.Parameters.Add(new NpgsqlParameter { Value = lease.Holder });
        command.Parameters.Add(new NpgsqlParameter { Value = lease.Generation });
    }

    private Task<int> UpdateLeaseAsync(ScoringLease lease, string assignment, long value, string what, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            using var command = new NpgsqlCommand(
                $"UPDATE scoring_leases SET {assignment} WHERE set_key = $1 AND holder = $2 AND generation = $3;", connection);
            AddLease(command, lease);
            command.Parameters.Add(new NpgsqlParameter { Value = value });
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, what, cancellationToken);

    private async Task<T> RunAsync<T>(Func<NpgsqlConnection, Task<T>> action, string what, CancellationToken cancellationToken)
    {
        try
        {
            var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                return await action(connection).ConfigureAwait(false);
            }
        }
        catch (NpgsqlException ex)
        {
            throw new StoreUnavailableException($"The PostgreSQL database could not {what}.", ex);
        }
    }

    private long Now() => _database.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();

    private sealed class RetentionLock(NpgsqlConnection connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                using var command = new NpgsqlCommand(
                    string.Create(CultureInfo.InvariantCulture, $"SELECT pg_advisory_unlock({RetentionLockKey});"), connection);
                await command.ExecuteScalarAsync().ConfigureAwait(false);
            }
            catch (NpgsqlException)
            {
                // A broken connection ends its session, and the lock with it.
            }
            finally
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
