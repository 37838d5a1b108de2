using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Labeling;

/// <summary>Reads: pooled connections, committed data only.</summary>
internal sealed partial class SqliteReviewStore
{
    private const string Columns =
        "sequence, record_id, state, reviewed_by, reviewed_ms, label, labeled_by, note, labeled_ms, promoted_record_id, promoted_label, promoted_by, promoted_ms";

    /// <inheritdoc />
    public IReadOnlyDictionary<long, RecordReview> Read(long setKey, IReadOnlyList<long> sequences)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        var result = new Dictionary<long, RecordReview>();
        if (sequences.Count == 0)
        {
            return result;
        }

        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM record_reviews WHERE set_key = $set AND sequence IN (SELECT value FROM json_each($sequences));";
        command.Parameters.AddWithValue("$set", setKey);
        command.Parameters.AddWithValue("$sequences", JsonSerializer.Serialize(sequences));
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var review = ReadReview(reader);
            result[review.Sequence] = review;
        }

        return result;
    }

    /// <inheritdoc />
    public IReadOnlySet<long> ReadReviewedSequences(long setKey)
    {
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sequence FROM record_reviews WHERE set_key = $set AND state <> 0;";
        command.Parameters.AddWithValue("$set", setKey);
        using var reader = command.ExecuteReader();
        var result = new HashSet<long>();
        while (reader.Read())
        {
            result.Add(reader.GetInt64(0));
        }

        return result;
    }

    /// <inheritdoc />
    public IReadOnlyList<RecordReview> ReadLabeled(long setKey, long afterSequence, int limit)
    {
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {Columns} FROM record_reviews
            WHERE set_key = $set AND label IS NOT NULL AND sequence > $after ORDER BY sequence LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$set", setKey);
        command.Parameters.AddWithValue("$after", afterSequence);
        command.Parameters.AddWithValue("$limit", limit);
        using var reader = command.ExecuteReader();
        var result = new List<RecordReview>();
        while (reader.Read())
        {
            result.Add(ReadReview(reader));
        }

        return result;
    }

    /// <inheritdoc />
    public IReadOnlyList<ReviewEvent> ReadHistory(long setKey, string? recordId, long afterEvent, int limit)
    {
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT event, record_id, action, actor, at_ms, detail FROM review_events
            WHERE set_key = $set AND event > $after AND ($id IS NULL OR record_id = $id) ORDER BY event LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$set", setKey);
        command.Parameters.AddWithValue("$after", afterEvent);
        command.Parameters.AddWithValue("$id", (object?)recordId ?? DBNull.Value);
        command.Parameters.AddWithValue("$limit", limit);
        using var reader = command.ExecuteReader();
        var result = new List<ReviewEvent>();
        while (reader.Read())
        {
            result.Add(new ReviewEvent(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4), reader.IsDBNull(5) ? null : reader.GetString(5)));
        }

        return result;
    }

    private static RecordReview ReadReview(SqliteDataReader reader) => new()
    {
        Sequence = reader.GetInt64(0),
        RecordId = reader.GetString(1),
        State = (ReviewState)reader.GetInt32(2),
        ReviewedBy = Text(reader, 3),
        ReviewedUnixMs = reader.GetInt64(4),
        Label = Text(reader, 5),
        LabeledBy = Text(reader, 6),
        Note = Text(reader, 7),
        LabeledUnixMs = reader.GetInt64(8),
        PromotedRecordId = Text(reader, 9),
        PromotedLabel = Text(reader, 10),
        PromotedBy = Text(reader, 11),
        PromotedUnixMs = reader.GetInt64(12),
    };

    private static string? Text(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
