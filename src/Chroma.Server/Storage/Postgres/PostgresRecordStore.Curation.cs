using Chroma.Server.Storage.Internal;
using Chroma.Server.Storage.Postgres.Internal;
using Npgsql;
using NpgsqlTypes;

namespace Chroma.Server.Storage.Postgres;

/// <summary>Delete and tag: small writes, serialized with this server's ingest.</summary>
internal sealed partial class PostgresRecordStore
{
    /// <inheritdoc />
    public Task<long> DeleteAsync(StoredEmbeddingSet set, IReadOnlyList<string> ids, CancellationToken cancellationToken = default) =>
        DeleteAsync(set, ids, keepLabeled: false, cancellationToken);

    /// <inheritdoc />
    public Task<long> DeleteUnlabeledAsync(StoredEmbeddingSet set, IReadOnlyList<string> ids, CancellationToken cancellationToken = default) =>
        DeleteAsync(set, ids, keepLabeled: true, cancellationToken);

    private async Task<long> DeleteAsync(StoredEmbeddingSet set, IReadOnlyList<string> ids, bool keepLabeled, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(ids);
        using var writeLock = await _database.EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        var sequences = new List<long>();
        try
        {
            var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    // The stamp comes from the set's row (locked to COMMIT, as ingest does), so the set's changes
                    // commit in sequence order on every server; a delete that finds nothing rolls back and spends none.
                    var stamp = AllocateSequences(connection, transaction, set.Key, 1, _database.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds());

                    // Tombstone rather than remove: a re-sent batch then counts the record as a duplicate
                    // instead of bringing it back, and its embedding and inputs are dropped.
                    // Retention leaves out a record labeled since it read the ids: a label committed before this statement.
                    var unlabeled = keepLabeled
                        ? "AND NOT EXISTS (SELECT 1 FROM record_reviews v WHERE v.set_key = records.set_key AND v.sequence = records.sequence AND v.label IS NOT NULL)"
                        : string.Empty;
                    using (var command = new NpgsqlCommand($"""
                        UPDATE records SET deleted = true, deleted_sequence = $3, embedding = '\x'::bytea, metadata = NULL, input_uri = NULL, label = NULL
                        WHERE set_key = $1 AND NOT deleted AND record_id = ANY($2) {unlabeled}
                        RETURNING sequence;
                        """, connection, transaction))
                    {
                        command.Parameters.Add(new NpgsqlParameter { Value = set.Key });
                        command.Parameters.Add(new NpgsqlParameter { Value = ids.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
                        command.Parameters.Add(new NpgsqlParameter { Value = stamp });
                        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                        await using (reader.ConfigureAwait(false))
                        {
                            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                            {
                                sequences.Add(reader.GetInt64(0));
                            }
                        }
                    }

                    if (sequences.Count > 0)
                    {
                        // A deleted record leaves the recommendations with its data.
                        using var scores = new NpgsqlCommand(
                            "DELETE FROM record_scores WHERE set_key = $1 AND sequence = ANY($2);", connection, transaction);
                        scores.Parameters.Add(new NpgsqlParameter { Value = set.Key });
                        scores.Parameters.Add(new NpgsqlParameter { Value = sequences.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
                        await scores.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

                        // Other replicas poll this count to learn of the delete (their rankings drop the records).
                        using var touched = new NpgsqlCommand(
                            "UPDATE embedding_sets SET deleted_count = deleted_count + $2 WHERE set_key = $1;", connection, transaction);
                        touched.Parameters.Add(new NpgsqlParameter { Value = set.Key });
                        touched.Parameters.Add(new NpgsqlParameter { Value = (long)sequences.Count });
                        await touched.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

                        await PostgresChangeNotice.SendAsync(connection, transaction, set.Key, stamp, cancellationToken).ConfigureAwait(false);
                        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (NpgsqlException ex)
        {
            throw new StoreUnavailableException("The PostgreSQL database could not delete the records.", ex);
        }

        sequences.Sort();
        if (sequences.Count > 0)
        {
            // Still under the write lock: observers hear of this server's changes in commit order.
            _observers.RecordsDeleted(set, sequences);
        }

        return sequences.Count;
    }

    /// <inheritdoc />
    public async Task<long> TagAsync(
        StoredEmbeddingSet set, IReadOnlyList<string> ids, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(tags);
        if (tags.Any(t => PostgresText.HasNul(t.Key) || PostgresText.HasNul(t.Value)))
        {
            throw new ArgumentException("tags: contains U+0000, which the PostgreSQL store cannot hold", nameof(tags));
        }

        using var writeLock = await _database.EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                // jsonb || merges top-level keys: existing keys are overwritten, others kept. The content
                // hash is left as ingested, so a re-sent original still counts as a duplicate.
                using var command = new NpgsqlCommand("""
                    UPDATE records SET metadata = COALESCE(metadata, '{}'::jsonb) || $3
                    WHERE set_key = $1 AND NOT deleted AND record_id = ANY($2);
                    """, connection);
                command.Parameters.Add(new NpgsqlParameter { Value = set.Key });
                command.Parameters.Add(new NpgsqlParameter { Value = ids.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
                command.Parameters.Add(new NpgsqlParameter { Value = JsonColumns.Write(tags) ?? "{}", NpgsqlDbType = NpgsqlDbType.Jsonb });
                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (NpgsqlException ex)
        {
            throw new StoreUnavailableException("The PostgreSQL database could not tag the records.", ex);
        }
    }

    /// <inheritdoc />
    public async Task<long> RemoveTagsAsync(
        StoredEmbeddingSet set, IReadOnlyList<string> ids, IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(keys);
        using var writeLock = await _database.EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                // jsonb - text[] removes those top-level keys.
                using var command = new NpgsqlCommand("""
                    UPDATE records SET metadata = COALESCE(metadata, '{}'::jsonb) - $3
                    WHERE set_key = $1 AND NOT deleted AND record_id = ANY($2);
                    """, connection);
                command.Parameters.Add(new NpgsqlParameter { Value = set.Key });
                command.Parameters.Add(new NpgsqlParameter { Value = ids.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
                command.Parameters.Add(new NpgsqlParameter { Value = keys.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (NpgsqlException ex)
        {
            throw new StoreUnavailableException("The PostgreSQL database could not remove the tags.", ex);
        }
    }
}
