using System.Text.Json;
using Chroma.Server.Storage.Internal;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Storage.Sqlite;

/// <summary>Delete and tag: small writes, serialized with ingest.</summary>
internal sealed partial class SqliteRecordStore
{
    /// <inheritdoc />
    public Task<long> DeleteAsync(
        StoredEmbeddingSet set, IReadOnlyList<string> ids, CancellationToken cancellationToken = default) =>
        DeleteAsync(set, ids, keepLabeled: false, cancellationToken);

    /// <inheritdoc />
    public Task<long> DeleteUnlabeledAsync(
        StoredEmbeddingSet set, IReadOnlyList<string> ids, CancellationToken cancellationToken = default) =>
        DeleteAsync(set, ids, keepLabeled: true, cancellationToken);

    private async Task<long> DeleteAsync(
        StoredEmbeddingSet set, IReadOnlyList<string> ids, bool keepLabeled, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(ids);
        using var writeLock = await _database.EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        var sequences = new List<long>();
        using (var transaction = Writer.BeginTransaction())
        {
            var stamp = TakeDeleteSequence(transaction);
            using var command = Writer.CreateCommand();
            command.Transaction = transaction;

            // Tombstone rather than remove: a re-sent batch then counts the record as a duplicate
            // instead of bringing it back, and its embedding and inputs are dropped. The stamp lets an
            // index that tails the store find the deletion (ReadChanges).
            // The label check runs in this transaction, which holds the database's write lock: a label written after
            // retention read its ids is seen here (the review store writes the same file).
            var unlabeled = keepLabeled && HasReviewTable(Writer, transaction)
                ? "AND NOT EXISTS (SELECT 1 FROM record_reviews v WHERE v.set_key = records.set_key AND v.sequence = records.sequence AND v.label IS NOT NULL)"
                : string.Empty;
            command.CommandText = $"""
                UPDATE records SET deleted = 1, deleted_sequence = $stamp, embedding = x'', metadata = NULL, input_uri = NULL, label = NULL
                WHERE set_key = $set AND deleted = 0 AND record_id IN (SELECT value FROM json_each($ids)) {unlabeled}
                RETURNING sequence;
                """;
            command.Parameters.AddWithValue("$set", set.Key);
            command.Parameters.AddWithValue("$stamp", stamp);
            command.Parameters.AddWithValue("$ids", JsonSerializer.Serialize(ids));
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    sequences.Add(reader.GetInt64(0));
                }
            }

            if (sequences.Count > 0)
            {
                // A deleted record leaves the recommendations with its data.
                using var scores = Writer.CreateCommand();
                scores.Transaction = transaction;
                scores.CommandText = "DELETE FROM record_scores WHERE sequence IN (SELECT value FROM json_each($sequences));";
                scores.Parameters.AddWithValue("$sequences", JsonSerializer.Serialize(sequences));
                scores.ExecuteNonQuery();

                using var touch = Writer.CreateCommand();
                touch.Transaction = transaction;
                touch.CommandText = "UPDATE embedding_sets SET last_sequence = MAX(last_sequence, $stamp) WHERE set_key = $set;";
                touch.Parameters.AddWithValue("$stamp", stamp);
                touch.Parameters.AddWithValue("$set", set.Key);
                touch.ExecuteNonQuery();
                transaction.Commit();
            }
            else
            {
                transaction.Rollback(); // nothing deleted: the stamp is not spent
            }
        }

        if (sequences.Count > 0)
        {
            // Still under the write lock: observers hear of changes in commit order.
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
        using var writeLock = await _database.EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        using var transaction = Writer.BeginTransaction();
        using var command = Writer.CreateCommand();
        command.Transaction = transaction;

        // json_patch merges (RFC 7396): existing keys are overwritten, others kept. The content
        // hash is left as ingested, so a re-sent original still counts as a duplicate.
        command.CommandText = """
            UPDATE records SET metadata = json_patch(COALESCE(metadata, '{}'), $tags)
            WHERE set_key = $set AND deleted = 0 AND record_id IN (SELECT value FROM json_each($ids));
            """;
        command.Parameters.AddWithValue("$set", set.Key);
        command.Parameters.AddWithValue("$ids", JsonSerializer.Serialize(ids));
        command.Parameters.AddWithValue("$tags", JsonColumns.Write(tags) ?? "{}");
        var updated = command.ExecuteNonQuery();
        transaction.Commit();
        return updated;
    }

    /// <inheritdoc />
    public async Task<long> RemoveTagsAsync(
        StoredEmbeddingSet set, IReadOnlyList<string> ids, IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(keys);
        using var writeLock = await _database.EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        using var transaction = Writer.BeginTransaction();
        using var command = Writer.CreateCommand();
        command.Transaction = transaction;

        // json_patch with a null value removes that key (RFC 7396).
        command.CommandText = """
            UPDATE records SET metadata = json_patch(COALESCE(metadata, '{}'), $keys)
            WHERE set_key = $set AND deleted = 0 AND record_id IN (SELECT value FROM json_each($ids));
            """;
        command.Parameters.AddWithValue("$set", set.Key);
        command.Parameters.AddWithValue("$ids", JsonSerializer.Serialize(ids));
        command.Parameters.AddWithValue("$keys", JsonSerializer.Serialize(keys.ToDictionary(k => k, _ => (string?)null)));
        var updated = command.ExecuteNonQuery();
        transaction.Commit();
        return updated;
    }

    /// <summary>
    /// A new sequence for a delete, from the records table's AUTOINCREMENT counter (<c>sqlite_sequence</c>, which SQLite
    /// documents as writable): larger than every sequence issued, and never given to a record later.
    /// </summary>
    private long TakeDeleteSequence(SqliteTransaction transaction)
    {
        using var command = Writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'records' RETURNING seq;";
        return command.ExecuteScalar() is long stamp ? stamp : 1; // no row yet only while no record was ever stored
    }
}
