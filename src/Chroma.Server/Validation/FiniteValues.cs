using System.Numerics;
using System.Runtime.InteropServices;

namespace Chroma.Server.Validation;

/// <summary>NaN and infinities would poison distances and scores, so no stored float may be one.</summary>
internal static class FiniteValues
{
    // A float is NaN or infinite exactly when all its exponent bits are set.
    private const uint ExponentBits = 0x7F80_0000;

    /// <summary>Null when every value is finite, else the first bad one as <c>field[i]: value is NaN</c>.</summary>
    public static ValidationError? Validate(ReadOnlySpan<float> values, string field, int recordIndex = -1)
    {
        var i = IndexOfNonFinite(values);
        if (i < 0)
        {
            return null;
        }

        var what = float.IsNaN(values[i]) ? "NaN" : "infinite";
        return ValidationError.Invalid($"{field}[{i}]: value is {what}", recordIndex);
    }

    /// <summary>The index of the first NaN or infinite value in <paramref name="values"/>, or -1 when all are finite.</summary>
    public static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        // Runs once per ingested vector: compare the exponent bits a vector register at a time, and find the exact
        // index with the scalar loop only from the block that holds a bad value.
        var bits = MemoryMarshal.Cast<float, uint>(values);
        var i = 0;
        if (Vector.IsHardwareAccelerated && bits.Length >= Vector<uint>.Count)
        {
            var exponent = new Vector<uint>(ExponentBits);
            for (; i <= bits.Length - Vector<uint>.Count; i += Vector<uint>.Count)
            {
                if (Vector.EqualsAny(new Vector<uint>(bits[i..]) & exponent, exponent))
                {
                    break;
                }
            }
        }

        for (; i < bits.Length; i++)
        {
            if ((bits[i] & ExponentBits) == ExponentBits)
            {
                return i;
            }
        }

        return -1;
    }
}
