using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Chroma.Server.Validation;

/// <summary>
/// NaN and infinities would poison distances and scores, so no stored float may be one. Embedding values are also
/// bounded in magnitude (<see cref="MaxEmbeddingMagnitude"/>): distances are summed in single precision, and values of
/// about 1e19 or more would make a squared distance overflow to infinity, which no score, ranking or response can carry.
/// </summary>
internal static class FiniteValues
{
    /// <summary>
    /// The largest magnitude an embedding value may have, exclusive: 2^50 (about 1.1e15). Even at the largest
    /// dimension the server allows (2^20) a squared L2 distance then stays below 2^122, far from float's limit (2^128).
    /// </summary>
    public const float MaxEmbeddingMagnitude = 1_125_899_906_842_624f;

    // A float is NaN or infinite exactly when all its exponent bits are set; its magnitude is 2^50 or more exactly when
    // its biased exponent is 127 + 50 or more (NaN and infinities included).
    private const uint ExponentBits = 0x7F80_0000;
    private const uint TooLargeExponent = (127u + 50u) << 23;

    /// <summary>Null when every value is finite, else the first bad one as <c>field[i]: value is NaN</c>.</summary>
    public static ValidationError? Validate(ReadOnlySpan<float> values, string field, int recordIndex = -1)
    {
        var i = IndexOfNonFinite(values);
        return i < 0 ? null : ValidationError.Invalid($"{field}[{i}]: value is {(float.IsNaN(values[i]) ? "NaN" : "infinite")}", recordIndex);
    }

    /// <summary>
    /// Null when every value is finite and below <see cref="MaxEmbeddingMagnitude"/> in magnitude, else the first bad
    /// one (<c>field[i]: value is NaN</c>, <c>... is infinite</c> or <c>... is too large</c>).
    /// </summary>
    public static ValidationError? ValidateEmbedding(ReadOnlySpan<float> values, string field, int recordIndex = -1)
    {
        var i = IndexOfOutOfRange(values);
        if (i < 0)
        {
            return null;
        }

        var value = values[i];
        var what = float.IsNaN(value) ? "value is NaN"
            : float.IsInfinity(value) ? "value is infinite"
            : string.Create(CultureInfo.InvariantCulture,
                $"value {value} is too large: embedding values must be below 2^50 (about 1.1e15) in magnitude, so squared distances stay finite");
        return ValidationError.Invalid($"{field}[{i}]: {what}", recordIndex);
    }

    /// <summary>The index of the first NaN or infinite value in <paramref name="values"/>, or -1 when all are finite.</summary>
    public static int IndexOfNonFinite(ReadOnlySpan<float> values) => IndexOfExponentAtLeast(values, ExponentBits);

    /// <summary>
    /// The index of the first value of <paramref name="values"/> that is NaN, infinite or not below
    /// <see cref="MaxEmbeddingMagnitude"/> in magnitude, or -1 when there is none.
    /// </summary>
    public static int IndexOfOutOfRange(ReadOnlySpan<float> values) => IndexOfExponentAtLeast(values, TooLargeExponent);

    private static int IndexOfExponentAtLeast(ReadOnlySpan<float> values, uint threshold)
    {
        // Runs once per ingested vector: compare the exponent bits a vector register at a time, and find the exact
        // index with the scalar loop only from the block that holds a bad value.
        var bits = MemoryMarshal.Cast<float, uint>(values);
        var i = 0;
        if (Vector.IsHardwareAccelerated && bits.Length >= Vector<uint>.Count)
        {
            var exponent = new Vector<uint>(ExponentBits);
            var limit = new Vector<uint>(threshold);
            for (; i <= bits.Length - Vector<uint>.Count; i += Vector<uint>.Count)
            {
                if (Vector.GreaterThanOrEqualAny(new Vector<uint>(bits[i..]) & exponent, limit))
                {
                    break;
                }
            }
        }

        for (; i < bits.Length; i++)
        {
            if ((bits[i] & ExponentBits) >= threshold)
            {
                return i;
            }
        }

        return -1;
    }
}
