using Chroma.MLNet.Internal;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Chroma;

/// <summary>
/// Decorates a fitted ML.NET model so batch scoring logs production data. <see cref="Transform"/> returns a view that
/// behaves like the inner one; its rows are logged as they are read, by the first un-shuffled cursor that reaches
/// them, so reading the view twice logs each row once. Rows read only through shuffled cursors, and rows mapped
/// through <see cref="GetRowToRowMapper"/> (e.g. by a <c>PredictionEngine</c>), are not logged; wrap the engine with
/// <c>WithChroma</c> for those.
/// </summary>
public sealed class ChromaTransformer : ITransformer
{
    internal const string Adapter = "ML.NET Transform";
    private readonly ITransformer _inner;
    private readonly EmbeddingSet _set;
    private readonly DataViewCaptureOptions _options;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The fitted model.</param>
    /// <param name="set">Where the scored rows go.</param>
    /// <param name="options">Which columns to log, or <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public ChromaTransformer(ITransformer inner, EmbeddingSet set, DataViewCaptureOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(set);
        _inner = inner;
        _set = set;
        _options = (options ?? new DataViewCaptureOptions()).Validated();
    }

    /// <summary>The wrapped model.</summary>
    public ITransformer Inner => _inner;

    /// <inheritdoc />
    public bool IsRowToRowMapper => _inner.IsRowToRowMapper;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _inner.GetOutputSchema(inputSchema);

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => _inner.GetRowToRowMapper(inputSchema);

    /// <summary>Scores <paramref name="input"/>; the returned view logs its rows as they are read.</summary>
    /// <param name="input">The data to score.</param>
    /// <returns>The inner model's view, wrapped; or the view itself when its columns cannot be captured (reported).</returns>
    public IDataView Transform(IDataView input)
    {
        var scored = _inner.Transform(input);
        try
        {
            var columns = RowCapture.Columns(scored.Schema, _options, training: false, _set, Adapter);
            if (columns is null)
            {
                return scored;
            }

            // The scores are in the model's key order, not "0".."n-1": their class names go with them.
            var set = ScoreClassNames.Apply(_set, ScoreClassNames.Read(scored.Schema, _options.ScoreColumn, _options.PredictedLabelColumn), Adapter);
            return new CapturingDataView(scored, columns, set, _options);
        }
#pragma warning disable CA1031 // Scoring must work whatever capture thinks of the schema.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _set.ReportCaptureError(Adapter, ex);
            return scored;
        }
    }

    /// <summary>Saves the inner model, so a saved model loads without capture.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => _inner.Save(ctx);
}
