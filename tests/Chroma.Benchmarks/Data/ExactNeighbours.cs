using System.Numerics.Tensors;

namespace Chroma.Benchmarks.Data;

/// <summary>Exact k nearest neighbours by brute force over all cores: the ground truth for recall.</summary>
internal static class ExactNeighbours
{
    public static int[] Compute(float[] baseData, int baseCount, float[] queries, int queryCount, int dim, int k, string metric)
    {
        var result = new int[queryCount * k];
        Parallel.For(0, queryCount, q =>
        {
            ReadOnlySpan<float> query = queries.AsSpan(q * dim, dim);
            float[] queryCopy = query.ToArray();
            if (metric == "cosine")
            {
                TensorPrimitives.Divide(queryCopy, TensorPrimitives.Norm(queryCopy), queryCopy);
            }

            var best = new PriorityQueue<int, float>(k + 1, Comparer<float>.Create((a, b) => b.CompareTo(a)));
            for (int i = 0; i < baseCount; i++)
            {
                ReadOnlySpan<float> v = baseData.AsSpan(i * dim, dim);
                float d = metric switch
                {
                    "l2" => Squared(TensorPrimitives.Distance(queryCopy, v)),
                    "ip" => 1 - TensorPrimitives.Dot(queryCopy, v),
                    _ => 1 - TensorPrimitives.CosineSimilarity(queryCopy, v),
                };
                if (best.Count < k)
                {
                    best.Enqueue(i, d);
                }
                else if (best.TryPeek(out _, out float worst) && d < worst)
                {
                    best.EnqueueDequeue(i, d);
                }
            }

            for (int j = best.Count - 1; j >= 0; j--)
            {
                result[(q * k) + j] = best.Dequeue();
            }
        });
        return result;
    }

    private static float Squared(float x) => x * x;
}
