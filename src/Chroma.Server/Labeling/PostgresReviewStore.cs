using Chroma.Server.Labeling.Internal;
using Chroma.Server.Storage.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace Chroma.Server.Labeling;

/// <summary>
/// <see cref="IReviewStore"/> in the PostgreSQL database the records are in (schema version 7), shared by every replica:
/// a label written through one server is what every other one reads, ranks by and exports. Each write is one
/// transaction that first counts the set's revision up (its row lock orders concurrent writes to a set, and their audit
/// events with them), then upserts the reviews and appends the events. The database belongs to the record storage; this
/// store only borrows its connections.
/// </summary>
internal sealed partial class PostgresReviewStore : IReviewStore
{
    private const string BumpRevision = """
        INSERT INTO review_revisions (set_key, revision) VALUES (@set, 1)
        ON CONFLICT (set_key) DO UPDATE SET revision = review_revisions.revision + 1;
        """;

    private const string AppendEvent = """
        INSERT INTO review_events (set_key, sequence, record_id, action, actor, at_ms, detail)
        VALUES (@set, @sequence, @id, @action, @actor, @at, @detail);
        """;

    private readonly PostgresDatabase _database;

    /// <summary>Reads and writes the review tables of <paramref name="database"/>.</summary>
    public PostgresReviewStore(PostgresDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _database = database;
    }

    /// <inheritdoc />
    public async Task<int> SaveLabelsAsync(long setKey, IReadOnlyList<LabelWrite> labels, string reviewer, long unixMs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return await WriteAsync(setKey, reviewer, unixMs, async (connection, transaction, audit) =>
        {
            await using var upsert = new NpgsqlCommand(
                """
                INSERT INTO record_reviews (set_key, sequence, record_id, state, reviewed_by, reviewed_ms, label, labeled_by, note, labeled_ms)
                VALUES (@set, @sequence, @id, 1, @who, @at, @label, @who, @note, @at)
                ON CONFLICT (set_key, sequence) DO UPDATE SET
                    state = 1, reviewed_by = @who, reviewed_ms = @at, label = @label, labeled_by = @who, note = @note, labeled_ms = @at;
                """,
                connection,
                transaction);
            upsert.Parameters.AddWithValue("set", setKey);
            upsert.Parameters.AddWithValue("who", reviewer);
            upsert.Parameters.AddWithValue("at", unixMs);
            var sequence = upsert.Parameters.Add("sequence", NpgsqlDbType.Bigint);
            var id = upsert.Parameters.Add("id", NpgsqlDbType.Text);
            var label = upsert.Parameters.Add("label", NpgsqlDbType.Text);
            var note = upsert.Parameters.Add("note", NpgsqlDbType.Text);
            var changed = 0;
            foreach (var write in labels)
            {
                sequence.Value = write.Sequence;
                id.Value = write.RecordId;
                label.Value = write.Label;
                note.Value = (object?)write.Note ?? DBNull.Value;
                changed += await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                await AuditAsync(audit, write.Sequence, write.RecordId, "label", write.Label, cancellationToken).ConfigureAwait(false);
            }

            return changed;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<int> SaveStateAsync(
        long setKey, IReadOnlyList<(long Sequence, string RecordId)> records, ReviewState state, string reviewer, long unixMs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        return await WriteAsync(setKey, reviewer, unixMs, async (connection, transaction, audit) =>
        {
            await using var upsert = new NpgsqlCommand(
                """
                INSERT INTO record_reviews (set_key, sequence, record_id, state, reviewed_by, reviewed_ms)
                VALUES (@set, @sequence, @id, @state, @who, @at)
                ON CONFLICT (set_key, sequence) DO UPDATE SET state = @state, reviewed_by = @who, reviewed_ms = @at;
                """,
                connection,
                transaction);
            upsert.Parameters.AddWithValue("set", setKey);
            upsert.Parameters.AddWithValue("state", (int)state);
            upsert.Parameters.AddWithValue("who", reviewer);
            upsert.Parameters.AddWithValue("at", unixMs);
            var sequence = upsert.Parameters.Add("sequence", NpgsqlDbType.Bigint);
            var id = upsert.Parameters.Add("id", NpgsqlDbType.Text);
            var action = ReviewRows.ActionOf(state);
            var changed = 0;
            foreach (var (recordSequence, recordId) in records)
            {
                sequence.Value = recordSequence;
                id.Value = recordId;
                changed += await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                await AuditAsync(audit, recordSequence, recordId, action, null, cancellationToken).ConfigureAwait(false);
            }

            return changed;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlySet<long>> SavePromotionsAsync(
        long setKey, IReadOnlyList<PromotionWrite> promotions, string promotedBy, long unixMs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promotions);
        var marked = new HashSet<long>();
        await WriteAsync(setKey, promotedBy, unixMs, async (connection, transaction, audit) =>
        {
            marked.Clear();
            await using var update = new NpgsqlCommand(
                """
                UPDATE record_reviews SET promoted_record_id = @training, promoted_label = @label, promoted_by = @who, promoted_ms = @at
                WHERE set_key = @set AND sequence = @sequence AND label = @label
                  AND promoted_record_id IS NOT DISTINCT FROM @previous
                RETURNING record_id;
                """,
                connection,
                transaction);
            var training = update.Parameters.Add("training", NpgsqlDbType.Text);
            var label = update.Parameters.Add("label", NpgsqlDbType.Text);
            update.Parameters.AddWithValue("who", promotedBy);
            update.Parameters.AddWithValue("at", unixMs);
            update.Parameters.AddWithValue("set", setKey);
            var sequence = update.Parameters.Add("sequence", NpgsqlDbType.Bigint);
            var previous = update.Parameters.Add("previous", NpgsqlDbType.Text);
            var changed = 0;
            foreach (var promotion in promotions)
            {
                training.Value = promotion.TrainingRecordId;
                label.Value = promotion.Label;
                sequence.Value = promotion.Sequence;
                previous.Value = (object?)promotion.Previous ?? DBNull.Value;
                if (await update.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string recordId)
                {
                    await AuditAsync(audit, promotion.Sequence, recordId, "promote", promotion.TrainingRecordId, cancellationToken).ConfigureAwait(false);
                    marked.Add(promotion.Sequence);
                    changed++;
                }
            }

            return changed;
        }, cancellationToken).ConfigureAwait(false);
        return marked;
    }

    /// <inheritdoc />
    public async Task RestoreAsync(long setKey, IReadOnlyList<ReviewSnapshot> previous, string actor, long unixMs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(previous);
        await WriteAsync(setKey, actor, unixMs, async (connection, transaction, audit) =>
        {
            await using var remove = new NpgsqlCommand("DELETE FROM record_reviews WHERE set_key = @set AND sequence = @sequence;", connection, transaction);
            remove.Parameters.AddWithValue("set", setKey);
            var removed = remove.Parameters.Add("sequence", NpgsqlDbType.Bigint);
            await using var put = new NpgsqlCommand(ReviewRows.RestoreStatement("@", "set_key, sequence"), connection, transaction);
            put.Parameters.AddWithValue("set", setKey);
            var id = put.Parameters.Add("id", NpgsqlDbType.Text);
            ReviewRows.AddWritableParameters(put, static c => c);

            foreach (var (sequence, recordId, review) in previous)
            {
                if (review is null)
                {
                    removed.Value = sequence;
                    await remove.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    id.Value = recordId;
                    ReviewRows.Bind(put, static c => c, review);
                    await put.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await AuditAsync(audit, sequence, recordId, "undo", review?.Label, cancellationToken).ConfigureAwait(false);
            }

            return previous.Count;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // The database (and its pool) belongs to the record storage, which closes it.
    }

    // One write transaction: the set's revision first (its row lock orders the set's writers), then body, then commit.
    private async Task<int> WriteAsync(
        long setKey, string actor, long unixMs, Func<NpgsqlConnection, NpgsqlTransaction, NpgsqlCommand, Task<int>> body, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var bump = new NpgsqlCommand(BumpRevision, connection, transaction))
        {
            bump.Parameters.AddWithValue("set", setKey);
            await bump.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using var audit = new NpgsqlCommand(AppendEvent, connection, transaction);
        audit.Parameters.AddWithValue("set", setKey);
        audit.Parameters.AddWithValue("actor", actor);
        audit.Parameters.AddWithValue("at", unixMs);
        audit.Parameters.Add("sequence", NpgsqlDbType.Bigint);
        audit.Parameters.Add("id", NpgsqlDbType.Text);
        audit.Parameters.Add("action", NpgsqlDbType.Text);
        audit.Parameters.Add("detail", NpgsqlDbType.Text);
        var changed = await body(connection, transaction, audit).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return changed;
    }

    private static Task<int> AuditAsync(NpgsqlCommand audit, long sequence, string recordId, string action, string? detail, CancellationToken cancellationToken)
    {
        audit.Parameters["sequence"].Value = sequence;
        audit.Parameters["id"].Value = recordId;
        audit.Parameters["action"].Value = action;
        audit.Parameters["detail"].Value = (object?)detail ?? DBNull.Value;
        return audit.ExecuteNonQueryAsync(cancellationToken);
    }
}
