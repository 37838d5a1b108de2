using Chroma.Server.Labeling.Internal;
using Npgsql;

namespace Chroma.Server.Labeling;

/// <summary>Reads: pooled connections of the shared database, committed data only.</summary>
internal sealed partial class PostgresReviewStore
{
    /// <inheritdoc />
    public IReadOnlyDictionary<long, RecordReview> Read(long setKey, IReadOnlyList<long> sequences)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        var result = new Dictionary<long, RecordReview>();
        if (sequences.Count == 0)
        {
            return result;
        }

        using var connection = _database.OpenConnection();
        using var command = new NpgsqlCommand($"SELECT {ReviewRows.Columns} FROM record_reviews WHERE set_key = @set AND sequence = ANY(@sequences);", connection);
        command.Parameters.AddWithValue("set", setKey);
        command.Parameters.AddWithValue("sequences", sequences.ToArray());
        using var reader = command.ExecuteReader();
        foreach (var review in ReviewRows.ReadReviews(reader))
        {
            result[review.Sequence] = review;
        }

        return result;
    }

    /// <inheritdoc />
    public IReadOnlySet<long> ReadReviewedSequences(long setKey)
    {
        using var connection = _database.OpenConnection();
        using var command = new NpgsqlCommand("SELECT sequence FROM record_reviews WHERE set_key = @set AND state <> 0;", connection);
        command.Parameters.AddWithValue("set", setKey);
        using var reader = command.ExecuteReader();
        return ReviewRows.ReadSequences(reader);
    }

    /// <inheritdoc />
    public IReadOnlyList<RecordReview> ReadLabeled(long setKey, long afterSequence, int limit)
    {
        using var connection = _database.OpenConnection();
        using var command = new NpgsqlCommand(
            $"""
            SELECT {ReviewRows.Columns} FROM record_reviews
            WHERE set_key = @set AND label IS NOT NULL AND sequence > @after ORDER BY sequence LIMIT @limit;
            """,
            connection);
        command.Parameters.AddWithValue("set", setKey);
        command.Parameters.AddWithValue("after", afterSequence);
        command.Parameters.AddWithValue("limit", limit);
        using var reader = command.ExecuteReader();
        return ReviewRows.ReadReviews(reader);
    }

    /// <inheritdoc />
    public IReadOnlyList<ReviewEvent> ReadHistory(long setKey, string? recordId, long afterEvent, int limit)
    {
        using var connection = _database.OpenConnection();
        using var command = new NpgsqlCommand(
            $"""
            SELECT {ReviewRows.EventColumns} FROM review_events
            WHERE set_key = @set AND event > @after AND (@id::text IS NULL OR record_id = @id) ORDER BY event LIMIT @limit;
            """,
            connection);
        command.Parameters.AddWithValue("set", setKey);
        command.Parameters.AddWithValue("after", afterEvent);
        command.Parameters.Add(new NpgsqlParameter("id", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)recordId ?? DBNull.Value });
        command.Parameters.AddWithValue("limit", limit);
        using var reader = command.ExecuteReader();
        return ReviewRows.ReadEvents(reader);
    }

    /// <inheritdoc />
    public long Revision(long setKey)
    {
        using var connection = _database.OpenConnection();
        using var command = new NpgsqlCommand("SELECT revision FROM review_revisions WHERE set_key = @set;", connection);
        command.Parameters.AddWithValue("set", setKey);
        return command.ExecuteScalar() is long revision ? revision : 0;
    }
}
