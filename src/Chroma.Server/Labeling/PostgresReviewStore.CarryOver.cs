using Chroma.Server.Labeling.Internal;
using Npgsql;
using NpgsqlTypes;

namespace Chroma.Server.Labeling;

/// <summary>
/// Carrying a set's labeling rows from a replica's local file (servers before schema 7) into the shared tables: one
/// transaction that first takes the set's <c>review_revisions</c> row, as every review write does, so it is ordered with
/// those writes and with another replica carrying the same rows at the same time (which then finds them there).
/// </summary>
internal sealed partial class PostgresReviewStore
{
    /// <summary>
    /// Merges the local reviews and events of <paramref name="setKey"/> into the database: a record without a review here
    /// takes the local one; where both have one, each part (state, label, promotion) is the one written later, so a label
    /// made through an upgraded replica meanwhile stays; events not here yet are added with their own times and actors.
    /// Records not stored here (or deleted) are skipped; when a local row names a record this set holds at that sequence
    /// under another id, the file is not this database's and nothing of the set is written.
    /// </summary>
    public LocalSetCarry CarryLocal(long setKey, IReadOnlyList<LocalReviewEvent> events, IReadOnlyDictionary<long, LocalReviewRow> rows)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(rows);
        var ownRows = rows.Values.Where(r => r.SetKey == setKey).ToList();
        using var connection = _database.OpenConnection();
        using var transaction = connection.BeginTransaction();
        string? setId;
        using (var find = new NpgsqlCommand("SELECT set_id FROM embedding_sets WHERE set_key = @set;", connection, transaction))
        {
            find.Parameters.AddWithValue("set", setKey);
            setId = find.ExecuteScalar() as string;
        }

        if (setId is null)
        {
            return new LocalSetCarry(setKey, null) { GoneReviews = ownRows.Count, GoneEvents = events.Count };
        }

        using (var bump = new NpgsqlCommand(BumpRevision, connection, transaction))
        {
            bump.Parameters.AddWithValue("set", setKey);
            bump.ExecuteNonQuery();
        }

        // Which records of the set are still stored, and under which ids.
        var sequences = events.Select(e => e.Sequence).Concat(ownRows.Select(r => r.Review.Sequence)).Distinct().ToArray();
        var stored = new Dictionary<long, (string Id, bool Deleted)>();
        using (var command = new NpgsqlCommand("SELECT sequence, record_id, deleted FROM records WHERE set_key = @set AND sequence = ANY(@sequences);", connection, transaction))
        {
            command.Parameters.AddWithValue("set", setKey);
            command.Parameters.AddWithValue("sequences", sequences);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                stored[reader.GetInt64(0)] = (reader.GetString(1), reader.GetBoolean(2));
            }
        }

        var mismatch = events.Select(e => (e.Sequence, e.RecordId)).Concat(ownRows.Select(r => (r.Review.Sequence, r.Review.RecordId)))
            .FirstOrDefault(x => stored.TryGetValue(x.Sequence, out var s) && s.Id != x.RecordId);
        if (mismatch.RecordId is not null)
        {
            return new LocalSetCarry(setKey, setId)
            {
                Refusal = $"the file names record {mismatch.RecordId} at sequence {mismatch.Sequence}, where this database holds {stored[mismatch.Sequence].Id}: it was written against another database",
            };
        }

        bool Live(long sequence) => stored.TryGetValue(sequence, out var s) && !s.Deleted;
        var liveEvents = events.Where(e => Live(e.Sequence)).ToList();
        var liveRows = rows.Where(r => r.Value.SetKey != setKey || Live(r.Key)).ToDictionary();
        var local = LocalReviewReplay.Rebuild(setKey, liveEvents, liveRows);
        var goneReviews = LocalReviewReplay.Rebuild(setKey, events, rows).Count - local.Count;
        var result = new LocalSetCarry(setKey, setId) { GoneReviews = goneReviews, GoneEvents = events.Count - liveEvents.Count };

        var present = ReadLocked(connection, transaction, setKey, local.Keys.ToArray());
        using var put = new NpgsqlCommand(ReviewRows.RestoreStatement("@", "set_key, sequence"), connection, transaction);
        put.Parameters.AddWithValue("set", setKey);
        var id = put.Parameters.Add("id", NpgsqlDbType.Text);
        ReviewRows.AddWritableParameters(put, static c => c);
        foreach (var (sequence, review) in local.OrderBy(r => r.Key))
        {
            var here = present.GetValueOrDefault(sequence);
            var merged = here is null ? review : Newer(here, review);
            if (merged == here)
            {
                if (here == review)
                {
                    result.AlreadyPresent++;
                }
                else
                {
                    result.KeptNewer++;
                }

                continue;
            }

            id.Value = merged.RecordId;
            ReviewRows.Bind(put, static c => c, merged);
            put.ExecuteNonQuery();
            result.Reviews++;
            result.Labels += merged.Label is null ? 0 : 1;
        }

        result.Events = AddMissingEvents(connection, transaction, setKey, liveEvents);
        result.EventsPresent = liveEvents.Count - result.Events;
        if (result.Reviews + result.Events > 0)
        {
            transaction.Commit(); // with the revision counted up, so every replica re-reads its reviewed records
        }

        return result;
    }

    // Each part of a review is the one written later (state, label, promotion), as if both had been written to one store
    // in time order; a tie keeps what is here.
    private static RecordReview Newer(RecordReview here, RecordReview local)
    {
        var merged = here;
        if (local.ReviewedUnixMs > here.ReviewedUnixMs)
        {
            merged = merged with { State = local.State, ReviewedBy = local.ReviewedBy, ReviewedUnixMs = local.ReviewedUnixMs };
        }

        if (local.LabeledUnixMs > here.LabeledUnixMs)
        {
            merged = merged with { Label = local.Label, LabeledBy = local.LabeledBy, Note = local.Note, LabeledUnixMs = local.LabeledUnixMs };
        }

        if (local.PromotedUnixMs > here.PromotedUnixMs)
        {
            merged = merged with
            {
                PromotedRecordId = local.PromotedRecordId, PromotedLabel = local.PromotedLabel, PromotedBy = local.PromotedBy, PromotedUnixMs = local.PromotedUnixMs,
            };
        }

        return merged;
    }

    private static Dictionary<long, RecordReview> ReadLocked(NpgsqlConnection connection, NpgsqlTransaction transaction, long setKey, long[] sequences)
    {
        using var command = new NpgsqlCommand(
            $"SELECT {ReviewRows.Columns} FROM record_reviews WHERE set_key = @set AND sequence = ANY(@sequences) FOR UPDATE;", connection, transaction);
        command.Parameters.AddWithValue("set", setKey);
        command.Parameters.AddWithValue("sequences", sequences);
        using var reader = command.ExecuteReader();
        return ReviewRows.ReadReviews(reader).ToDictionary(r => r.Sequence);
    }

    // Adds the local events the set's trail does not hold yet, oldest first (an event here counts once against one
    // identical local event, so a second carry, or another replica's copy of the same rows, adds nothing).
    private static int AddMissingEvents(NpgsqlConnection connection, NpgsqlTransaction transaction, long setKey, List<LocalReviewEvent> events)
    {
        if (events.Count == 0)
        {
            return 0;
        }

        var here = new Dictionary<(long, string, string, string, long, string?), int>();
        using (var read = new NpgsqlCommand(
            "SELECT sequence, record_id, action, actor, at_ms, detail FROM review_events WHERE set_key = @set AND record_id = ANY(@ids);", connection, transaction))
        {
            read.Parameters.AddWithValue("set", setKey);
            read.Parameters.AddWithValue("ids", events.Select(e => e.RecordId).Distinct().ToArray());
            using var reader = read.ExecuteReader();
            while (reader.Read())
            {
                var key = (reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4), reader.IsDBNull(5) ? null : reader.GetString(5));
                here[key] = here.GetValueOrDefault(key) + 1;
            }
        }

        using var append = new NpgsqlCommand(AppendEvent, connection, transaction);
        append.Parameters.AddWithValue("set", setKey);
        var sequence = append.Parameters.Add("sequence", NpgsqlDbType.Bigint);
        var id = append.Parameters.Add("id", NpgsqlDbType.Text);
        var action = append.Parameters.Add("action", NpgsqlDbType.Text);
        var actor = append.Parameters.Add("actor", NpgsqlDbType.Text);
        var at = append.Parameters.Add("at", NpgsqlDbType.Bigint);
        var detail = append.Parameters.Add("detail", NpgsqlDbType.Text);
        var added = 0;
        foreach (var e in events.OrderBy(e => e.AtMs).ThenBy(e => e.Event))
        {
            var key = (e.Sequence, e.RecordId, e.Action, e.Actor, e.AtMs, e.Detail);
            if (here.GetValueOrDefault(key) > 0)
            {
                here[key]--;
                continue;
            }

            sequence.Value = e.Sequence;
            id.Value = e.RecordId;
            action.Value = e.Action;
            actor.Value = e.Actor;
            at.Value = e.AtMs;
            detail.Value = (object?)e.Detail ?? DBNull.Value;
            append.ExecuteNonQuery();
            added++;
        }

        return added;
    }
}

/// <summary>What carrying one set's local labeling rows into PostgreSQL did.</summary>
/// <param name="SetKey">The set key the rows name.</param>
/// <param name="SetId">The set's id, or null when no set has that key any more.</param>
internal sealed record LocalSetCarry(long SetKey, string? SetId)
{
    /// <summary>Gets or sets the reviews written (inserted, or parts of one here replaced by later local ones).</summary>
    public int Reviews { get; set; }

    /// <summary>Gets or sets how many of those carry a label.</summary>
    public int Labels { get; set; }

    /// <summary>Gets or sets the audit events added.</summary>
    public int Events { get; set; }

    /// <summary>Gets or sets the local events already in the trail.</summary>
    public int EventsPresent { get; set; }

    /// <summary>Gets or sets the reviews left as they were because the one here is newer.</summary>
    public int KeptNewer { get; set; }

    /// <summary>Gets or sets the reviews already here as the file has them (carried before).</summary>
    public int AlreadyPresent { get; set; }

    /// <summary>Gets or sets the reviews of records no longer stored (or deleted), skipped.</summary>
    public int GoneReviews { get; set; }

    /// <summary>Gets or sets the events of records no longer stored (or deleted), skipped.</summary>
    public int GoneEvents { get; set; }

    /// <summary>Gets or sets why nothing of the set was carried, or null.</summary>
    public string? Refusal { get; set; }
}
