using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Chroma.Server.Cli.Internal;

/// <summary>
/// Records as RFC 4180 CSV: one row per record, one column per embedding component (<c>e0</c>,
/// <c>e1</c>, ...) so spreadsheets and data frames read it directly. Metadata and class
/// probabilities are JSON in one column each. Floats use the shortest text that round-trips. Text cells that a
/// spreadsheet would run as a formula get a <c>'</c> before them (<see cref="CsvCells"/>).
/// </summary>
internal sealed class CsvRecordWriter
{
    private static readonly string[] FixedColumns =
        ["id", "set_id", "dataset", "sequence", "timestamp_unix_ms", "input_uri", "label", "predicted_class", "class_probabilities", "class_names", "metadata"];

    private readonly TextWriter _output;
    private readonly int _setDimension;
    private int _dimension = -1;

    /// <summary>Creates a writer; the header is written with the first record (its embedding's length gives the columns).</summary>
    /// <param name="output">Where the rows go.</param>
    /// <param name="setDimension">The set's dimension: the embedding columns of a header written without records (<see cref="WriteHeaderAsync"/>).</param>
    public CsvRecordWriter(TextWriter output, int setDimension)
    {
        _output = output;
        _setDimension = setDimension;
    }

    /// <summary>Gets the column names for <paramref name="dimension"/> embedding components.</summary>
    public static IReadOnlyList<string> Header(int dimension) =>
        [.. FixedColumns, .. Enumerable.Range(0, dimension).Select(i => "e" + i.ToString(CultureInfo.InvariantCulture))];

    /// <summary>Writes one record (and the header before the first).</summary>
    public async Task WriteAsync(RecordView record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var embedding = record.Embedding ?? [];
        if (_dimension < 0)
        {
            _dimension = embedding.Count;
            await _output.WriteLineAsync(string.Join(',', Header(_dimension))).ConfigureAwait(false);
        }

        var line = new StringBuilder();
        CsvCells.AppendText(line, record.Id);
        CsvCells.AppendText(line, record.SetId);
        CsvCells.AppendText(line, record.Dataset);
        CsvCells.AppendNumber(line, record.Sequence.ToString(CultureInfo.InvariantCulture));
        CsvCells.AppendNumber(line, record.TimestampUnixMs.ToString(CultureInfo.InvariantCulture));
        CsvCells.AppendText(line, record.InputUri);
        CsvCells.AppendText(line, record.Label);
        CsvCells.AppendText(line, record.PredictedClass);
        CsvCells.AppendText(line, record.ClassProbabilities is null ? null : JsonSerializer.Serialize(record.ClassProbabilities, CliJson.Options));
        CsvCells.AppendText(line, record.ClassNames is null ? null : JsonSerializer.Serialize(record.ClassNames, CliJson.Options));
        CsvCells.AppendText(line, record.Metadata is null ? null : JsonSerializer.Serialize(record.Metadata, CliJson.Options));
        foreach (var value in embedding)
        {
            CsvCells.AppendNumber(line, value.ToString("R", CultureInfo.InvariantCulture));
        }

        line.Length--; // the trailing comma
        await _output.WriteLineAsync(line.ToString()).ConfigureAwait(false);
    }

    /// <summary>Writes the header if no record wrote it (an export of no records is still a table with its columns).</summary>
    public async Task WriteHeaderAsync()
    {
        if (_dimension < 0)
        {
            _dimension = _setDimension;
            await _output.WriteLineAsync(string.Join(',', Header(_dimension))).ConfigureAwait(false);
        }
    }
}
