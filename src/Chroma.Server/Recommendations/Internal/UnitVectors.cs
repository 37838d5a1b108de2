using Chroma.Server.Background;

namespace Chroma.Server.Recommendations;

/// <summary>L2 normalisation of embeddings: distances between unit vectors depend only on direction.</summary>
internal static class UnitVectors
{
    /// <summary>
    /// Writes <c>x / ||x||_2</c> into <paramref name="destination"/>. A zero vector stays zero: it has no
    /// direction (<see cref="Indexing.UnitVector"/>: however small its values, any other has one), and inventing one
    /// would place it arbitrarily close to some training record.
    /// </summary>
    public static void Normalize(ReadOnlySpan<float> source, Span<float> destination)
    {
        Indexing.UnitVector.TryNormalize(source, destination);
    }

    /// <summary>Normalises every row of a row-major matrix into a new array (chunks of rows in parallel on <paramref name="limiter"/>, the shared one when null).</summary>
    public static float[] NormalizeRows(ReadOnlyMemory<float> rows, int dimension, BackgroundWorkLimiter? limiter = null)
    {
        var result = new float[rows.Length];
        (limiter ?? BackgroundWorkLimiter.Shared).For(0, rows.Length / dimension, RowsPerChunk, (start, end) =>
        {
            for (var i = start; i < end; i++)
            {
                Normalize(rows.Span.Slice(i * dimension, dimension), result.AsSpan(i * dimension, dimension));
            }
        });
        return result;
    }

    /// <summary>Normalises the rows <paramref name="rowIndices"/> of <paramref name="training"/> into a new row-major array, in that order.</summary>
    public static float[] NormalizeRows(TrainingData training, int[] rowIndices, BackgroundWorkLimiter? limiter = null)
    {
        var d = training.Dimension;
        var result = new float[(long)rowIndices.Length * d];
        (limiter ?? BackgroundWorkLimiter.Shared).For(0, rowIndices.Length, RowsPerChunk, (start, end) =>
        {
            for (var i = start; i < end; i++)
            {
                Normalize(training.Row(rowIndices[i]), result.AsSpan(i * d, d));
            }
        });
        return result;
    }

    // About 1 MB of 128-float rows per chunk: big enough to amortise the hand-off, small enough to share the threads.
    private const int RowsPerChunk = 2048;
}
