using Chroma.MLNet.Internal;
using Microsoft.ML;

namespace Chroma;

/// <summary>
/// Decorates an ML.NET estimator so <see cref="Fit"/> also logs the training data: after the inner estimator has fitted,
/// the fitted model transforms the training data once more and a cursor streams each row's embedding and label into
/// the set in chunks of <see cref="DataViewCaptureOptions.ChunkSize"/> rows (never the whole view in memory).
/// <see cref="Fit"/> returns the inner model instance itself and throws exactly what the inner estimator throws.
/// </summary>
/// <remarks>
/// The extra pass costs one <c>Transform</c> over the training data. By default <c>Fit</c> (a batch call, not a hot
/// path) waits, up to <see cref="DataViewCaptureOptions.DeliveryWait"/> (10 s) per chunk, for each chunk to be
/// delivered, so a training set larger than <see cref="ChromaClientOptions.QueueCapacity"/> arrives whole. When a wait
/// times out (server down or slow) the rest is queued without waiting: rows that find the queue full are then counted in
/// <see cref="ChromaStatistics.Dropped"/>. A <see cref="DataViewCaptureOptions.DeliveryWait"/> of zero never waits.
/// </remarks>
/// <typeparam name="TTransformer">The model type the inner estimator produces.</typeparam>
public sealed class ChromaEstimator<TTransformer> : IEstimator<TTransformer>
    where TTransformer : ITransformer
{
    private const string Adapter = "ML.NET Fit";
    private readonly IEstimator<TTransformer> _inner;
    private readonly EmbeddingSet _set;
    private readonly DataViewCaptureOptions _options;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The estimator (usually a whole pipeline ending in a trainer).</param>
    /// <param name="set">Where the training rows go.</param>
    /// <param name="options">Which columns to log, or <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public ChromaEstimator(IEstimator<TTransformer> inner, EmbeddingSet set, DataViewCaptureOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(set);
        _inner = inner;
        _set = set;
        _options = (options ?? new DataViewCaptureOptions()).Validated();
    }

    /// <summary>The wrapped estimator.</summary>
    public IEstimator<TTransformer> Inner => _inner;

    /// <summary>Fits the inner estimator, then logs every training row once.</summary>
    /// <param name="input">The training data.</param>
    /// <returns>The model the inner estimator returned.</returns>
    public TTransformer Fit(IDataView input)
    {
        var model = _inner.Fit(input);
        if (_set.ShouldCapture)
        {
            CaptureTraining(model, input);
        }

        return model;
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => _inner.GetOutputSchema(inputSchema);

    private void CaptureTraining(TTransformer model, IDataView input)
    {
        try
        {
            var transformed = model.Transform(input);
            var columns = RowCapture.Columns(transformed.Schema, _options, training: true, _set, Adapter);
            if (columns is null)
            {
                return;
            }

            using var cursor = transformed.GetRowCursor(columns);
            var capture = RowCapture.Create(cursor, _options, training: true, _set, Adapter);
            var waitForDelivery = _options.DeliveryWait > TimeSpan.Zero;

            // A chunk larger than the client's queue would drop rows before the wait: half the queue at most.
            var chunk = Math.Min(_options.ChunkSize, Math.Max(1, _set.Client.QueueCapacity / 2));
            var rowsInChunk = 0;
            while (cursor.MoveNext())
            {
                capture.CaptureCurrent();
                if (waitForDelivery && ++rowsInChunk == chunk)
                {
                    rowsInChunk = 0;
                    waitForDelivery = WaitForDelivery();
                }
            }

            // The last, partial chunk too: once Fit returns, its training rows are delivered (a set smaller than one
            // chunk was not waited for at all, so a query right after Fit could miss them).
            if (waitForDelivery && rowsInChunk > 0)
            {
                WaitForDelivery();
            }
        }
#pragma warning disable CA1031 // The model is already fitted; a capture failure must not take it from the user.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _set.ReportCaptureError(Adapter, ex);
        }
    }

    /// <summary>Waits for the queued chunk to be delivered; false once a wait timed out, so later chunks do not wait.</summary>
    private bool WaitForDelivery()
    {
        try
        {
            // Fit is synchronous; the flush completes on the client's background loops, never on this thread.
            _set.Client.FlushAsync().WaitAsync(_options.DeliveryWait).GetAwaiter().GetResult();
            return true;
        }
        catch (TimeoutException)
        {
            _set.ReportCaptureProblem(Adapter, "training rows were not delivered within DeliveryWait; the rest is queued without waiting");
            return false;
        }
    }
}
