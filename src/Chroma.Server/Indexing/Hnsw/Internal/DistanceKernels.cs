using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Chroma.Server.Indexing.Hnsw.Internal;

/// <summary>
/// SIMD distance kernels. The hand-written Vector512/Vector256 loops with four independent accumulators
/// beat TensorPrimitives for 128-d and 784-d on this hardware (measured with `Chroma.Benchmarks kernels`),
/// mostly because they skip argument validation and keep more adds in flight; the TensorPrimitives
/// variants stay here so the benchmark can keep checking that claim.
/// </summary>
internal static unsafe class DistanceKernels
{
    /// <summary>Squared Euclidean distance.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SquaredL2(float* a, float* b, int dim)
    {
        int i = 0;
        float sum;
        if (Vector512.IsHardwareAccelerated && dim >= 16)
        {
            Vector512<float> s0 = Vector512<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
            for (; i <= dim - 64; i += 64)
            {
                Vector512<float> d0 = Vector512.Load(a + i) - Vector512.Load(b + i);
                Vector512<float> d1 = Vector512.Load(a + i + 16) - Vector512.Load(b + i + 16);
                Vector512<float> d2 = Vector512.Load(a + i + 32) - Vector512.Load(b + i + 32);
                Vector512<float> d3 = Vector512.Load(a + i + 48) - Vector512.Load(b + i + 48);
                s0 = Vector512.FusedMultiplyAdd(d0, d0, s0);
                s1 = Vector512.FusedMultiplyAdd(d1, d1, s1);
                s2 = Vector512.FusedMultiplyAdd(d2, d2, s2);
                s3 = Vector512.FusedMultiplyAdd(d3, d3, s3);
            }

            for (; i <= dim - 16; i += 16)
            {
                Vector512<float> d = Vector512.Load(a + i) - Vector512.Load(b + i);
                s0 = Vector512.FusedMultiplyAdd(d, d, s0);
            }

            sum = Vector512.Sum((s0 + s1) + (s2 + s3));
        }
        else if (Vector256.IsHardwareAccelerated && dim >= 8)
        {
            Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
            for (; i <= dim - 32; i += 32)
            {
                Vector256<float> d0 = Vector256.Load(a + i) - Vector256.Load(b + i);
                Vector256<float> d1 = Vector256.Load(a + i + 8) - Vector256.Load(b + i + 8);
                Vector256<float> d2 = Vector256.Load(a + i + 16) - Vector256.Load(b + i + 16);
                Vector256<float> d3 = Vector256.Load(a + i + 24) - Vector256.Load(b + i + 24);
                s0 = Vector256.FusedMultiplyAdd(d0, d0, s0);
                s1 = Vector256.FusedMultiplyAdd(d1, d1, s1);
                s2 = Vector256.FusedMultiplyAdd(d2, d2, s2);
                s3 = Vector256.FusedMultiplyAdd(d3, d3, s3);
            }

            for (; i <= dim - 8; i += 8)
            {
                Vector256<float> d = Vector256.Load(a + i) - Vector256.Load(b + i);
                s0 = Vector256.FusedMultiplyAdd(d, d, s0);
            }

            sum = Vector256.Sum((s0 + s1) + (s2 + s3));
        }
        else
        {
            sum = 0;
        }

        for (; i < dim; i++)
        {
            float d = a[i] - b[i];
            sum += d * d;
        }

        return sum;
    }

    /// <summary>Dot product.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* a, float* b, int dim)
    {
        int i = 0;
        float sum;
        if (Vector512.IsHardwareAccelerated && dim >= 16)
        {
            Vector512<float> s0 = Vector512<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
            for (; i <= dim - 64; i += 64)
            {
                s0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), s0);
                s1 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 16), Vector512.Load(b + i + 16), s1);
                s2 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 32), Vector512.Load(b + i + 32), s2);
                s3 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 48), Vector512.Load(b + i + 48), s3);
            }

            for (; i <= dim - 16; i += 16)
            {
                s0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), s0);
            }

            sum = Vector512.Sum((s0 + s1) + (s2 + s3));
        }
        else if (Vector256.IsHardwareAccelerated && dim >= 8)
        {
            Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
            for (; i <= dim - 32; i += 32)
            {
                s0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), s0);
                s1 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i + 8), Vector256.Load(b + i + 8), s1);
                s2 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i + 16), Vector256.Load(b + i + 16), s2);
                s3 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i + 24), Vector256.Load(b + i + 24), s3);
            }

            for (; i <= dim - 8; i += 8)
            {
                s0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), s0);
            }

            sum = Vector256.Sum((s0 + s1) + (s2 + s3));
        }
        else
        {
            sum = 0;
        }

        for (; i < dim; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// <summary>Squared Euclidean distance through TensorPrimitives (benchmark reference).</summary>
    public static float SquaredL2Tensor(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float d = TensorPrimitives.Distance(a, b);
        return d * d;
    }

    /// <summary>Dot product through TensorPrimitives (benchmark reference).</summary>
    public static float DotTensor(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => TensorPrimitives.Dot(a, b);
}

/// <summary>A distance the graph code is specialised on (static abstract, so the JIT inlines it per metric).</summary>
internal unsafe interface IDistance
{
    static abstract float Between(float* a, float* b, int dim);
}

/// <summary>Squared L2.</summary>
internal readonly unsafe struct L2Distance : IDistance
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Between(float* a, float* b, int dim) => DistanceKernels.SquaredL2(a, b, dim);
}

/// <summary>1 - dot; cosine uses it on normalised vectors.</summary>
internal readonly unsafe struct DotDistance : IDistance
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Between(float* a, float* b, int dim) => 1f - DistanceKernels.Dot(a, b, dim);
}
