using Microsoft.ML;

namespace Chroma.MLNet.Internal;

/// <summary>Logs the current row of a cursor: the embedding column plus label, prediction, scores and input URI.</summary>
internal sealed class RowCapture
{
    private readonly EmbeddingSet _set;
    private readonly string _adapter;
    private readonly string _dataset;
    private readonly VectorColumnReader _embedding;
    private readonly VectorColumnReader? _scores;
    private readonly Func<string?>? _label;
    private readonly Func<string?>? _predicted;
    private readonly Func<string?>? _inputUri;

    private RowCapture(EmbeddingSet set, string adapter, string dataset, VectorColumnReader embedding, VectorColumnReader? scores, Func<string?>? label, Func<string?>? predicted, Func<string?>? inputUri)
    {
        _set = set;
        _adapter = adapter;
        _dataset = dataset;
        _embedding = embedding;
        _scores = scores;
        _label = label;
        _predicted = predicted;
        _inputUri = inputUri;
    }

    /// <summary>
    /// The columns capture reads from <paramref name="schema"/>: training reads the label, scoring the prediction and
    /// scores. Returns <see langword="null"/> (after reporting why) when the embedding column is missing or not a
    /// float vector.
    /// </summary>
    public static List<DataViewSchema.Column>? Columns(DataViewSchema schema, DataViewCaptureOptions options, bool training, EmbeddingSet set, string adapter)
    {
        var embedding = schema.GetColumnOrNull(options.EmbeddingColumn);
        if (embedding is null || !VectorColumnReader.Fits(embedding.Value))
        {
            set.ReportCaptureProblem(adapter, $"column '{options.EmbeddingColumn}' is missing or not a float vector");
            return null;
        }

        var names = training
            ? new[] { options.LabelColumn, options.InputUriColumn }
            : new[] { options.PredictedLabelColumn, options.ScoreColumn, options.InputUriColumn };
        var columns = new List<DataViewSchema.Column> { embedding.Value };
        foreach (var name in names)
        {
            if (name is not null && schema.GetColumnOrNull(name) is { } column)
            {
                columns.Add(column);
            }
        }

        return columns;
    }

    /// <summary>Binds capture to <paramref name="row"/>, whose schema passed <see cref="Columns"/>.</summary>
    public static RowCapture Create(DataViewRow row, DataViewCaptureOptions options, bool training, EmbeddingSet set, string adapter)
    {
        var schema = row.Schema;
        Func<string?>? Text(string? name) =>
            name is not null && schema.GetColumnOrNull(name) is { } column ? ColumnTextReader.Create(row, column) : null;

        var scores = !training && options.ScoreColumn is not null && schema.GetColumnOrNull(options.ScoreColumn) is { } score
            ? VectorColumnReader.Create(row, score)
            : null;
        return new RowCapture(
            set,
            adapter,
            options.Dataset ?? (training ? ChromaDatasets.Training : ChromaDatasets.Production),
            VectorColumnReader.Create(row, schema[options.EmbeddingColumn])!,
            scores,
            training ? Text(options.LabelColumn) : null,
            training ? null : Text(options.PredictedLabelColumn),
            Text(options.InputUriColumn));
    }

    /// <summary>Logs the cursor's current row. Never throws.</summary>
    public void CaptureCurrent()
    {
        try
        {
            var embedding = _embedding.Read();
            var scores = _scores is null ? default : FiniteScores.OrNone(_scores.Read(), _set, _adapter);
            _set.Log(_dataset, embedding, _label?.Invoke(), _predicted?.Invoke(), scores, _inputUri?.Invoke());
        }
#pragma warning disable CA1031 // A bad row must never fail the user's training or scoring.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _set.ReportCaptureError(_adapter, ex);
        }
    }
}
