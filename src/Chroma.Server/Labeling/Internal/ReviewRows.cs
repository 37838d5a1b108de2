using System.Data.Common;

namespace Chroma.Server.Labeling.Internal;

/// <summary>The columns of a <c>record_reviews</c> row and an audit event as both stores (SQLite, PostgreSQL) select them.</summary>
internal static class ReviewRows
{
    /// <summary>The audit event columns, in the order <see cref="ReadEvent"/> reads them.</summary>
    public const string EventColumns = "event, record_id, action, actor, at_ms, detail";

    /// <summary>The review of the reader's current row (selected with <see cref="Columns"/>).</summary>
    public static RecordReview ReadReview(DbDataReader reader) => new()
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

    /// <summary>The audit event of the reader's current row (selected with <see cref="EventColumns"/>).</summary>
    public static ReviewEvent ReadEvent(DbDataReader reader) =>
        new(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4), Text(reader, 5));

    /// <summary>The columns <see cref="Bind"/> sets, besides the set key and the record id.</summary>
    public static readonly string[] Writable =
        ["sequence", "state", "reviewed_by", "reviewed_ms", "label", "labeled_by", "note", "labeled_ms", "promoted_record_id", "promoted_label", "promoted_by", "promoted_ms"];

    /// <summary>The review columns, in the order <see cref="ReadReview"/> reads them: the sequence, the record id, the rest.</summary>
    public static readonly string Columns = $"{Writable[0]}, record_id, {string.Join(", ", Writable.Skip(1))}";

    /// <summary>
    /// The statement that writes a whole review row back (an undo), with parameters named <paramref name="prefix"/> plus
    /// <c>set</c>, <c>id</c> and each <see cref="Writable"/> column (<see cref="AddWritableParameters"/>);
    /// <paramref name="conflictTarget"/> is the table's key in that store.
    /// </summary>
    public static string RestoreStatement(string prefix, string conflictTarget) =>
        $"INSERT INTO record_reviews (set_key, record_id, {string.Join(", ", Writable)}) " +
        $"VALUES ({prefix}set, {prefix}id, {string.Join(", ", Writable.Select(c => prefix + c))}) " +
        $"ON CONFLICT ({conflictTarget}) DO UPDATE SET {string.Join(", ", Writable.Skip(1).Select(c => $"{c} = {prefix}{c}"))};";

    /// <summary>
    /// Adds a parameter per <see cref="Writable"/> column to <paramref name="command"/>, named by <paramref name="name"/>
    /// (each provider writes its own prefix), for <see cref="Bind"/>.
    /// </summary>
    public static void AddWritableParameters(DbCommand command, Func<string, string> name)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(name);
        foreach (var column in Writable)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name(column);
            command.Parameters.Add(parameter);
        }
    }

    /// <summary>Sets the parameters <see cref="AddWritableParameters"/> added to <paramref name="review"/>'s values.</summary>
    public static void Bind(DbCommand command, Func<string, string> name, RecordReview review)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(review);
        object?[] values =
        [
            review.Sequence, (int)review.State, review.ReviewedBy, review.ReviewedUnixMs, review.Label, review.LabeledBy, review.Note,
            review.LabeledUnixMs, review.PromotedRecordId, review.PromotedLabel, review.PromotedBy, review.PromotedUnixMs,
        ];
        for (var i = 0; i < Writable.Length; i++)
        {
            command.Parameters[name(Writable[i])].Value = values[i] ?? DBNull.Value;
        }
    }

    /// <summary>Every review the reader returns (selected with <see cref="Columns"/>).</summary>
    public static List<RecordReview> ReadReviews(DbDataReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var result = new List<RecordReview>();
        while (reader.Read())
        {
            result.Add(ReadReview(reader));
        }

        return result;
    }

    /// <summary>Every audit event the reader returns (selected with <see cref="EventColumns"/>).</summary>
    public static List<ReviewEvent> ReadEvents(DbDataReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var result = new List<ReviewEvent>();
        while (reader.Read())
        {
            result.Add(ReadEvent(reader));
        }

        return result;
    }

    /// <summary>The first column of every row the reader returns, as sequences.</summary>
    public static HashSet<long> ReadSequences(DbDataReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var result = new HashSet<long>();
        while (reader.Read())
        {
            result.Add(reader.GetInt64(0));
        }

        return result;
    }

    /// <summary>The audit action of a change to <paramref name="state"/>.</summary>
    public static string ActionOf(ReviewState state) => state switch
    {
        ReviewState.Reviewed => "review",
        ReviewState.Dismissed => "dismiss",
        _ => "reopen",
    };

    private static string? Text(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
