using System.Globalization;
using System.Text;

namespace Chroma.Server.Cli.Internal;

/// <summary>A labeled record as <c>export-labels</c> writes it: the record, the reviewer's label and the audit fields.</summary>
internal sealed record LabeledRecordView(
    string Id,
    string SetId,
    string Dataset,
    long Sequence,
    string? InputUri,
    string? PredictedClass,
    string Label,
    string LabeledBy,
    string? Note,
    long LabeledUnixMs,
    string ReviewState,
    string? PromotedRecordId,
    string? PromotedBy,
    long? PromotedUnixMs,
    IReadOnlyList<float>? Embedding)
{
    private static readonly string[] FixedColumns =
    [
        "id", "set_id", "dataset", "sequence", "input_uri", "predicted_class", "label", "labeled_by", "note", "labeled_unix_ms",
        "review_state", "promoted_record_id", "promoted_by", "promoted_unix_ms",
    ];

    /// <summary>Maps a labeled record the client read.</summary>
    public static LabeledRecordView From(ChromaRecord labeled)
    {
        ArgumentNullException.ThrowIfNull(labeled);
        var review = labeled.Review;
        var record = RecordView.From(labeled);
        return new LabeledRecordView(
            record.Id, record.SetId, record.Dataset, record.Sequence, record.InputUri, record.PredictedClass,
            review?.Label ?? string.Empty, review?.LabeledBy ?? string.Empty, review?.Note, UnixMs(review?.LabeledAt),
            review?.State switch { Chroma.ReviewState.Reviewed => "reviewed", Chroma.ReviewState.Dismissed => "dismissed", _ => "unreviewed" },
            review?.PromotedRecordId, review?.PromotedBy, review?.PromotedAt is { } promoted ? promoted.ToUnixTimeMilliseconds() : null, record.Embedding);
    }

    private static long UnixMs(DateTimeOffset? time) => time?.ToUnixTimeMilliseconds() ?? 0;

    /// <summary>The CSV header for <paramref name="dimension"/> embedding components (<c>e0</c>, <c>e1</c>, ...).</summary>
    public static string CsvHeader(int dimension) =>
        string.Join(',', FixedColumns.Concat(Enumerable.Range(0, dimension).Select(i => "e" + i.ToString(CultureInfo.InvariantCulture))));

    /// <summary>
    /// This record as one RFC 4180 CSV line, text cells that a spreadsheet would run as a formula with a <c>'</c> before
    /// them (<see cref="CsvCells"/>).
    /// </summary>
    public string ToCsv()
    {
        var line = new StringBuilder();
        foreach (var text in new[] { Id, SetId, Dataset })
        {
            CsvCells.AppendText(line, text);
        }

        CsvCells.AppendNumber(line, Number(Sequence));
        foreach (var text in new[] { InputUri, PredictedClass, Label, LabeledBy, Note })
        {
            CsvCells.AppendText(line, text);
        }

        CsvCells.AppendNumber(line, Number(LabeledUnixMs));
        foreach (var text in new[] { ReviewState, PromotedRecordId, PromotedBy })
        {
            CsvCells.AppendText(line, text);
        }

        CsvCells.AppendNumber(line, PromotedUnixMs is { } promotedUnixMs ? Number(promotedUnixMs) : null);
        foreach (var value in Embedding ?? [])
        {
            CsvCells.AppendNumber(line, value.ToString("R", CultureInfo.InvariantCulture));
        }

        line.Length--;
        return line.ToString();
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
