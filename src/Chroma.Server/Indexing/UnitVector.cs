using System.Numerics.Tensors;

namespace Chroma.Server.Indexing;

/// <summary>
/// The one definition, for ingest, queries, the indexes and scoring, of when a vector has a direction under the cosine
/// metric, and of its unit vector. Any finite vector with a non-zero value has one, however small its values (1e-45,
/// a float32 denormal, included) or large (up to the float32 range): the squared norm of 8 values of 1e-30 underflows
/// to 0 in float32, so a plain float32 norm is not that definition.
/// </summary>
internal static class UnitVector
{
    /// <summary>
    /// A float32 norm from here up is exact enough to divide by: its square (1e-36) is far above the smallest normal
    /// float32 (1.2e-38), so the squares it summed lost at most denormal rounding, negligible beside it.
    /// </summary>
    private const float SmallestSafeNorm = 1e-18f;

    /// <summary>Whether <paramref name="vector"/> has a direction: some value is non-zero (0 and -0 are zero).</summary>
    public static bool HasDirection(ReadOnlySpan<float> vector)
    {
        foreach (var value in vector)
        {
            if (value != 0f)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Writes <c>x / ||x||_2</c> into <paramref name="destination"/> (which may be <paramref name="source"/> itself).
    /// Returns false, with the destination cleared, when <paramref name="source"/> has no direction
    /// (<see cref="HasDirection"/>). The common case divides by the float32 norm; only when that underflowed or overflowed
    /// is the norm taken again in double, where the square of every float32 is representable.
    /// </summary>
    public static bool TryNormalize(ReadOnlySpan<float> source, Span<float> destination)
    {
        var norm = TensorPrimitives.Norm(source);
        if (norm >= SmallestSafeNorm && float.IsFinite(norm))
        {
            TensorPrimitives.Divide(source, norm, destination);
            return true;
        }

        return TryNormalizeCarefully(source, destination[..source.Length]);
    }

    /// <summary>Normalises <paramref name="vector"/> in place; false (and cleared) when it has no direction.</summary>
    public static bool TryNormalize(Span<float> vector) => TryNormalize(vector, vector);

    /// <summary>The norm in double, then each value divided in double: exact to float32 rounding for any finite input.</summary>
    private static bool TryNormalizeCarefully(ReadOnlySpan<float> source, Span<float> destination)
    {
        var sum = 0d;
        foreach (var value in source)
        {
            sum += (double)value * value;
        }

        var norm = Math.Sqrt(sum);
        if (!(norm > 0d && double.IsFinite(norm)))
        {
            // All zeros (or, from an unvalidated caller, NaN or infinity): no direction to give.
            destination.Clear();
            return false;
        }

        for (var i = 0; i < source.Length; i++)
        {
            destination[i] = (float)(source[i] / norm);
        }

        return true;
    }
}
