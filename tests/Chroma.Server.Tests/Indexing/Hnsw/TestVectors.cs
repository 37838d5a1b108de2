using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing.Hnsw;

/// <summary>Seeded vector sets and an independent brute-force reference for the HNSW tests.</summary>
internal static class TestVectors
{
    public static float[][] Uniform(int count, int dim, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(_ => Enumerable.Range(0, dim).Select(_ => (random.NextSingle() * 2) - 1).ToArray())
            .ToArray();
    }

    /// <summary>Gaussian blobs around a few centres, so neighbourhoods are dense and uneven.</summary>
    public static float[][] Clustered(int count, int dim, int clusters, int seed)
    {
        var random = new Random(seed);
        float[][] centres = Uniform(clusters, dim, seed + 1).Select(c => c.Select(x => x * 5).ToArray()).ToArray();
        return Enumerable.Range(0, count)
            .Select(_ => centres[random.Next(clusters)].Select(x => x + (Gaussian(random) * 0.5f)).ToArray())
            .ToArray();
    }

    /// <summary>Rescales each vector to a norm between 0.9 and 1.1.</summary>
    public static float[][] NearUnitNorm(float[][] vectors, int seed)
    {
        var random = new Random(seed);
        return vectors.Select(v =>
        {
            float scale = (0.9f + (0.2f * random.NextSingle())) / MathF.Sqrt(v.Sum(x => x * x));
            return v.Select(x => x * scale).ToArray();
        }).ToArray();
    }

    /// <summary>Keys of the k nearest of <paramref name="candidates"/>, computed in double precision.</summary>
    public static long[] ExactNearest(float[][] vectors, IEnumerable<int> candidates, float[] query, int k, HnswMetric metric) =>
        candidates.OrderBy(i => Distance(vectors[i], query, metric)).Take(k).Select(i => (long)i).ToArray();

    /// <summary>Mean fraction of the exact neighbours that the index returned.</summary>
    public static double Recall(IReadOnlyList<long[]> expected, IReadOnlyList<HnswSearchResult[]> actual)
    {
        double hits = 0;
        for (int q = 0; q < expected.Count; q++)
        {
            hits += actual[q].Select(r => r.Key).Intersect(expected[q]).Count() / (double)expected[q].Length;
        }

        return hits / expected.Count;
    }

    public static HnswIndex Build(float[][] vectors, HnswMetric metric, Func<int, int>? tagOf = null, int exactSearchMaxCount = 2048)
    {
        var index = new HnswIndex(new HnswOptions
        {
            Dimension = vectors[0].Length,
            Metric = metric,
            M = 12,
            EfConstruction = 100,
            ExactSearchMaxCount = exactSearchMaxCount,
        });
        for (int i = 0; i < vectors.Length; i++)
        {
            index.Add(i, vectors[i], tagOf?.Invoke(i) ?? 0);
        }

        return index;
    }

    private static double Distance(float[] a, float[] b, HnswMetric metric)
    {
        double dot = 0, l2 = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            l2 += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return metric switch
        {
            HnswMetric.L2 => l2,
            HnswMetric.Cosine => 1 - (dot / Math.Sqrt(na * nb)),
            _ => 1 - dot,
        };
    }

    private static float Gaussian(Random random) =>
        (float)(Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
}
