using System.Text.Json;
using Chroma.Server.Labeling.Internal;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Labeling;

/// <summary>Reads: pooled connections, committed data only.</summary>
internal sealed partial class SqliteReviewStore
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

        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {ReviewRows.Columns} FROM record_reviews WHERE set_key = $set AND sequence IN (SELECT value FROM json_each($sequences));";
        command.Parameters.AddWithValue("$set", setKey);
        command.Parameters.AddWithValue("$sequences", JsonSerializer.Serialize(sequences));
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
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sequence FROM record_reviews WHERE set_key = $set AND state <> 0;";
        command.Parameters.AddWithValue("$set", setKey);
        using var reader = command.ExecuteReader();
        return ReviewRows.ReadSequences(reader);
    }

    /// <inheritdoc />
    public IReadOnlyList<RecordReview> ReadLabeled(long setKey, long afterSequence, int limit)
    {
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {ReviewRows.Columns} FROM record_reviews
            WHERE set_key = $set AND label IS NOT NULL AND sequence > $after ORDER BY sequence LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$set", setKey);
        command.Parameters.AddWithValue("$after", afterSequence);
        command.Parameters.AddWithValue("$limit", limit);
        using var reader = command.ExecuteReader();
        return ReviewRows.ReadReviews(reader);
    }

    /// <inheritdoc />
    public IReadOnlyList<ReviewEvent> ReadHistory(long setKey, string? recordId, long afterEvent, int limit)
    {
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {ReviewRows.EventColumns} FROM review_events
            WHERE set_key = $set AND event > $after AND ($id IS NULL OR record_id = $id) ORDER BY event LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$set", setKey);
        command.Parameters.AddWithValue("$after", afterEvent);
        command.Parameters.AddWithValue("$id", (object?)recordId ?? DBNull.Value);
        command.Parameters.AddWithValue("$limit", limit);
        using var reader = command.ExecuteReader();
        return ReviewRows.ReadEvents(reader);
    }

    /// <inheritdoc />
    public long Revision(long setKey) => 0; // one server writes this file: the labeling service's own count covers it
}
