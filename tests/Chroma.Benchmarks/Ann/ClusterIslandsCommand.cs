using System.Diagnostics;
using System.Globalization;
using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Benchmarks.Ann;

/// <summary>
/// <c>cluster-islands</c>: a reproduction of outside-in probe K's split cluster. Isotropic Gaussian clusters far apart
/// (centres N(0, 4^2) a coordinate, spreads 0.3-1.5, as the probe's generator), a first load of <c>--first</c> vectors,
/// then <c>--later</c> vectors inserted into the same graph. After each: per cluster, the connected parts of its
/// vectors' layer-0 links (an island: a part holding no first-load vector) and recall@10 of fresh queries drawn from the
/// cluster, at <c>--ef</c>; and how often the paper's greedy walk of the upper layers ends outside the query's cluster.
/// <c>--upper 1</c> builds and searches with that greedy walk, the default with <see cref="HnswOptions.UpperBeam"/>.
/// </summary>
internal static class ClusterIslandsCommand
{
    public const string Usage =
        "[--first 40000] [--later 20000] [--clusters 200] [--dim 128] [--seed 1] [--threads 1] [--batch 256] [--queries 20] " +
        "[--ef 128] [--m 16] [--efc 200] [--upper 8 (1 = greedy)] [--reconnect] [--big K --big-weight W (clusters 0..K-1 W times as likely)]";

    public static int Run(CommandArguments args)
    {
        var first = args.Int("first", 40_000);
        var later = args.Int("later", 20_000);
        var clusterCount = args.Int("clusters", 200);
        var dimension = args.Int("dim", 128);
        var seed = args.Int("seed", 1);
        var threads = args.Int("threads", 1);
        var batch = args.Int("batch", 256);
        var queries = args.Int("queries", 20);
        var ef = args.Int("ef", 128);
        var m = args.Int("m", 16);
        var efConstruction = args.Int("efc", 200);
        var upperBeam = args.Int("upper", new HnswOptions { Dimension = 1 }.UpperBeam);
        var reconnect = args.Flag("reconnect");
        var big = args.Int("big", 0);
        var bigWeight = args.Int("big-weight", 1);
        args.RejectUnknown();

        var clusters = GaussianClusters.Draw(clusterCount, dimension, first + later, big, bigWeight, seed);
        using var index = new HnswIndex(new HnswOptions { Dimension = dimension, M = m, EfConstruction = efConstruction, UpperBeam = upperBeam });
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = threads };
        var stopwatch = Stopwatch.StartNew();
        void Insert(int from, int to)
        {
            var sinceReconnect = 0;
            for (var start = from; start < to; start += batch)
            {
                var end = Math.Min(to, start + batch);
                Parallel.For(start, end, parallel, i => index.Add(i, clusters.Vectors[i]));
                sinceReconnect += end - start;
                if (reconnect && sinceReconnect >= Math.Max(4096, index.Count / 8))
                {
                    index.Reconnect();
                    sinceReconnect = 0;
                }
            }
        }

        Insert(0, first);
        var afterFirst = ClusterIslandsAnalysis.Measure(index, clusters, first, queries, ef, seed, worst: 3);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"after first {first}: {stopwatch.Elapsed.TotalSeconds:F1} s; {afterFirst}"));
        Insert(first, first + later);
        if (reconnect)
        {
            index.Reconnect();
        }

        var afterLater = ClusterIslandsAnalysis.Measure(index, clusters, first, queries, ef, seed, worst: 6);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"after later {later}: {stopwatch.Elapsed.TotalSeconds:F1} s; {afterLater}"));
        return 0;
    }
}

/// <summary>Gaussian clusters far apart: each vector's cluster (<see cref="Labels"/>), centres and spreads.</summary>
internal sealed record GaussianClusters(float[][] Vectors, int[] Labels, float[][] Centres, float[] Spreads)
{
    /// <summary>Draws <paramref name="count"/> vectors; clusters below <paramref name="big"/> are <paramref name="bigWeight"/> times as likely.</summary>
    public static GaussianClusters Draw(int clusters, int dimension, int count, int big, int bigWeight, int seed)
    {
        var random = new Random(seed);
        var centres = new float[clusters][];
        var spreads = new float[clusters];
        for (var c = 0; c < clusters; c++)
        {
            centres[c] = Around(random, new float[dimension], 4f);
            spreads[c] = 0.3f + (1.2f * (float)random.NextDouble());
        }

        var labels = new int[count];
        var vectors = new float[count][];
        for (var i = 0; i < count; i++)
        {
            var c = random.Next(clusters + (big * (bigWeight - 1)));
            labels[i] = c >= clusters ? (c - clusters) % big : c;
            vectors[i] = Around(random, centres[labels[i]], spreads[labels[i]]);
        }

        return new GaussianClusters(vectors, labels, centres, spreads);
    }

    /// <summary>A draw from N(centre, spread^2) a coordinate.</summary>
    public static float[] Around(Random random, float[] centre, float spread)
    {
        var vector = new float[centre.Length];
        for (var d = 0; d < vector.Length; d++)
        {
            var gaussian = Math.Sqrt(-2 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            vector[d] = centre[d] + (spread * (float)gaussian);
        }

        return vector;
    }
}
