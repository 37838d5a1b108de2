using System.Numerics.Tensors;

namespace Chroma.Server.Recommendations;

/// <summary>L2 normalisation of embeddings: distances between unit vectors depend only on direction.</summary>
internal static class UnitVectors
{
    /// <summary>
    /// Writes <c>x / ||x||_2</c> into <paramref name="destination"/>. A zero vector stays zero: it has no
    /// direction, and inventing one would place it arbitrarily close to some training record.
    /// </summary>
    public static void Normalize(ReadOnlySpan<float> source, Span<float> destination)
    {
        var norm = TensorPrimitives.Norm(source);
        if (norm > 0f)
        {
            TensorPrimitives.Divide(source, norm, destination);
        }
        else
        {
            destination[..source.Length].Clear();
        }
    }

    /// <summary>Normalises every row of a row-major matrix into a new array (rows in parallel).</summary>
    public static float[] NormalizeRows(ReadOnlyMemory<float> rows, int dimension)
    {
        var result = new float[rows.Length];
        Parallel.For(0, rows.Length / dimension, i =>
            Normalize(rows.Span.Slice(i * dimension, dimension), result.AsSpan(i * dimension, dimension)));
        return result;
    }
}
