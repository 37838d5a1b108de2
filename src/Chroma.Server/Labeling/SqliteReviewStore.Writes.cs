using Chroma.Server.Labeling.Internal;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Labeling;

/// <summary>Writes: one transaction each, audit events included.</summary>
internal sealed partial class SqliteReviewStore
{
    /// <inheritdoc />
    public async Task<int> SaveLabelsAsync(long setKey, IReadOnlyList<LabelWrite> labels, string reviewer, long unixMs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(labels);
        using var gate = await EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        using var transaction = _writer.BeginTransaction();
        using var upsert = _writer.CreateCommand();
        upsert.Transaction = transaction;
        upsert.CommandText = """
            INSERT INTO record_reviews (sequence, set_key, record_id, state, reviewed_by, reviewed_ms, label, labeled_by, note, labeled_ms)
            VALUES ($sequence, $set, $id, 1, $who, $at, $label, $who, $note, $at)
            ON CONFLICT (sequence) DO UPDATE SET
                state = 1, reviewed_by = $who, reviewed_ms = $at, label = $label, labeled_by = $who, note = $note, labeled_ms = $at;
            """;
        var sequence = upsert.Parameters.Add("$sequence", SqliteType.Integer);
        var id = upsert.Parameters.Add("$id", SqliteType.Text);
        var label = upsert.Parameters.Add("$label", SqliteType.Text);
        var note = upsert.Parameters.Add("$note", SqliteType.Text);
        upsert.Parameters.AddWithValue("$set", setKey);
        upsert.Parameters.AddWithValue("$who", reviewer);
        upsert.Parameters.AddWithValue("$at", unixMs);
        using var audit = AuditCommand(transaction, setKey, reviewer, unixMs);
        var changed = 0;
        foreach (var write in labels)
        {
            sequence.Value = write.Sequence;
            id.Value = write.RecordId;
            label.Value = write.Label;
            note.Value = (object?)write.Note ?? DBNull.Value;
            changed += upsert.ExecuteNonQuery();
            Audit(audit, write.Sequence, write.RecordId, "label", write.Label);
        }

        transaction.Commit();
        return changed;
    }

    /// <inheritdoc />
    public async Task<int> SaveStateAsync(
        long setKey, IReadOnlyList<(long Sequence, string RecordId)> records, ReviewState state, string reviewer, long unixMs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        using var gate = await EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        using var transaction = _writer.BeginTransaction();
        using var upsert = _writer.CreateCommand();
        upsert.Transaction = transaction;
        upsert.CommandText = """
            INSERT INTO record_reviews (sequence, set_key, record_id, state, reviewed_by, reviewed_ms)
            VALUES ($sequence, $set, $id, $state, $who, $at)
            ON CONFLICT (sequence) DO UPDATE SET state = $state, reviewed_by = $who, reviewed_ms = $at;
            """;
        var sequence = upsert.Parameters.Add("$sequence", SqliteType.Integer);
        var id = upsert.Parameters.Add("$id", SqliteType.Text);
        upsert.Parameters.AddWithValue("$set", setKey);
        upsert.Parameters.AddWithValue("$state", (int)state);
        upsert.Parameters.AddWithValue("$who", reviewer);
        upsert.Parameters.AddWithValue("$at", unixMs);
        using var audit = AuditCommand(transaction, setKey, reviewer, unixMs);
        var action = ReviewRows.ActionOf(state);
        var changed = 0;
        foreach (var (recordSequence, recordId) in records)
        {
            sequence.Value = recordSequence;
            id.Value = recordId;
            changed += upsert.ExecuteNonQuery();
            Audit(audit, recordSequence, recordId, action, null);
        }

        transaction.Commit();
        return changed;
    }

    /// <inheritdoc />
    public async Task<IReadOnlySet<long>> SavePromotionsAsync(
        long setKey, IReadOnlyList<PromotionWrite> promotions, string promotedBy, long unixMs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promotions);
        using var gate = await EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        using var transaction = _writer.BeginTransaction();
        using var update = _writer.CreateCommand();
        update.Transaction = transaction;
        update.CommandText = """
            UPDATE record_reviews SET promoted_record_id = $training, promoted_label = $label, promoted_by = $who, promoted_ms = $at
            WHERE sequence = $sequence AND set_key = $set AND label = $label
              AND promoted_record_id IS $previous
            RETURNING record_id;
            """;
        var training = update.Parameters.Add("$training", SqliteType.Text);
        var label = update.Parameters.Add("$label", SqliteType.Text);
        update.Parameters.AddWithValue("$who", promotedBy);
        update.Parameters.AddWithValue("$at", unixMs);
        var sequence = update.Parameters.Add("$sequence", SqliteType.Integer);
        var previous = update.Parameters.Add("$previous", SqliteType.Text);
        update.Parameters.AddWithValue("$set", setKey);
        using var audit = AuditCommand(transaction, setKey, promotedBy, unixMs);
        var marked = new HashSet<long>();
        foreach (var promotion in promotions)
        {
            training.Value = promotion.TrainingRecordId;
            label.Value = promotion.Label;
            sequence.Value = promotion.Sequence;
            previous.Value = (object?)promotion.Previous ?? DBNull.Value;
            if (update.ExecuteScalar() is string recordId)
            {
                Audit(audit, promotion.Sequence, recordId, "promote", promotion.TrainingRecordId);
                marked.Add(promotion.Sequence);
            }
        }

        transaction.Commit();
        return marked;
    }

    /// <inheritdoc />
    public async Task RestoreAsync(long setKey, IReadOnlyList<ReviewSnapshot> previous, string actor, long unixMs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(previous);
        using var gate = await EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        using var transaction = _writer.BeginTransaction();
        using var remove = _writer.CreateCommand();
        remove.Transaction = transaction;
        remove.CommandText = "DELETE FROM record_reviews WHERE sequence = $sequence AND set_key = $set;";
        remove.Parameters.AddWithValue("$set", setKey);
        var removed = remove.Parameters.Add("$sequence", SqliteType.Integer);
        using var put = _writer.CreateCommand();
        put.Transaction = transaction;
        put.CommandText = ReviewRows.RestoreStatement("$", "sequence");
        put.Parameters.AddWithValue("$set", setKey);
        var id = put.Parameters.Add("$id", SqliteType.Text);
        ReviewRows.AddWritableParameters(put, static c => "$" + c);
        using var audit = AuditCommand(transaction, setKey, actor, unixMs);
        foreach (var (sequence, recordId, review) in previous)
        {
            if (review is null)
            {
                removed.Value = sequence;
                remove.ExecuteNonQuery();
            }
            else
            {
                id.Value = recordId;
                ReviewRows.Bind(put, static c => "$" + c, review);
                put.ExecuteNonQuery();
            }

            Audit(audit, sequence, recordId, "undo", review?.Label);
        }

        transaction.Commit();
    }

    private static void Audit(SqliteCommand audit, long sequence, string recordId, string action, string? detail)
    {
        audit.Parameters["$sequence"].Value = sequence;
        audit.Parameters["$id"].Value = recordId;
        audit.Parameters["$action"].Value = action;
        audit.Parameters["$detail"].Value = (object?)detail ?? DBNull.Value;
        audit.ExecuteNonQuery();
    }

    private SqliteCommand AuditCommand(SqliteTransaction transaction, long setKey, string actor, long unixMs)
    {
        var command = _writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO review_events (set_key, sequence, record_id, action, actor, at_ms, detail)
            VALUES ($set, $sequence, $id, $action, $actor, $at, $detail);
            """;
        command.Parameters.AddWithValue("$set", setKey);
        command.Parameters.AddWithValue("$actor", actor);
        command.Parameters.AddWithValue("$at", unixMs);
        command.Parameters.Add("$sequence", SqliteType.Integer);
        command.Parameters.Add("$id", SqliteType.Text);
        command.Parameters.Add("$action", SqliteType.Text);
        command.Parameters.Add("$detail", SqliteType.Text);
        return command;
    }
}
