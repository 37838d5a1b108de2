using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Dot products of one query with a block of consecutive rows. Four rows share each load of the
/// query and keep four SIMD accumulators busy, which is about twice as fast as four separate
/// <see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/> calls for d around 128.
/// </summary>
internal static class DotProducts
{
    /// <summary>Rows per <see cref="Block"/> call that the caller should use.</summary>
    public const int BlockRows = 64;

    /// <summary>Writes <c>query . row_r</c> for each of the <c>dots.Length</c> rows of <paramref name="rows"/> into <paramref name="dots"/>.</summary>
    public static void Block(ReadOnlySpan<float> query, ReadOnlySpan<float> rows, Span<float> dots)
    {
        var d = query.Length;
        var width = Vector<float>.Count;
        var vectorized = Vector.IsHardwareAccelerated ? d / width * width : 0;
        var r = 0;
        if (vectorized > 0)
        {
            var q = MemoryMarshal.Cast<float, Vector<float>>(query[..vectorized]);
            for (; r + 4 <= dots.Length; r += 4)
            {
                var a = MemoryMarshal.Cast<float, Vector<float>>(rows.Slice(r * d, vectorized));
                var b = MemoryMarshal.Cast<float, Vector<float>>(rows.Slice((r + 1) * d, vectorized));
                var c = MemoryMarshal.Cast<float, Vector<float>>(rows.Slice((r + 2) * d, vectorized));
                var e = MemoryMarshal.Cast<float, Vector<float>>(rows.Slice((r + 3) * d, vectorized));
                Vector<float> sa = default, sb = default, sc = default, se = default;
                for (var j = 0; j < q.Length; j++)
                {
                    var qj = q[j];
                    sa += qj * a[j];
                    sb += qj * b[j];
                    sc += qj * c[j];
                    se += qj * e[j];
                }

                dots[r] = Vector.Sum(sa) + Tail(query, rows, r, vectorized);
                dots[r + 1] = Vector.Sum(sb) + Tail(query, rows, r + 1, vectorized);
                dots[r + 2] = Vector.Sum(sc) + Tail(query, rows, r + 2, vectorized);
                dots[r + 3] = Vector.Sum(se) + Tail(query, rows, r + 3, vectorized);
            }
        }

        for (; r < dots.Length; r++)
        {
            dots[r] = TensorPrimitives.Dot(query, rows.Slice(r * d, d));
        }
    }

    private static float Tail(ReadOnlySpan<float> query, ReadOnlySpan<float> rows, int row, int from)
    {
        var d = query.Length;
        var sum = 0f;
        for (var j = from; j < d; j++)
        {
            sum += query[j] * rows[(row * d) + j];
        }

        return sum;
    }
}
