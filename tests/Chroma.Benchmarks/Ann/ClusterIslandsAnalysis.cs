using System.Globalization;
using System.Runtime.CompilerServices;
using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Indexing.Hnsw.Internal;

namespace Chroma.Benchmarks.Ann;

/// <summary>What <c>cluster-islands</c> reports of a graph: islands per cluster, recall of fresh queries, greedy descents that end outside.</summary>
internal static unsafe class ClusterIslandsAnalysis
{
    /// <summary>One line: recall@10 at <paramref name="ef"/>, queries below 0.5, greedy walks ending outside, split clusters, island vectors, the worst clusters.</summary>
    public static string Measure(HnswIndex index, GaussianClusters clusters, int first, int queriesPerCluster, int ef, int seed, int worst)
    {
        var graph = index.GraphForDiagnostics;
        var members = new List<int>[clusters.Centres.Length];
        for (var c = 0; c < members.Length; c++)
        {
            members[c] = [];
        }

        for (var node = 0; node < graph.NodeCount; node++)
        {
            members[clusters.Labels[graph.Nodes.Key(node)]].Add(node);
        }

        var random = new Random(seed + 7);
        int split = 0, islandVectors = 0, below = 0, outside = 0, queries = 0;
        double recallSum = 0;
        var byCluster = new List<(double Recall, string Note)>();
        for (var c = 0; c < members.Length; c++)
        {
            if (members[c].Count == 0)
            {
                continue;
            }

            var parts = Parts(graph, members[c], first);
            split += parts.Count > 1 ? 1 : 0;
            islandVectors += parts.Where(p => p.FirstLoad == 0).Sum(p => p.Size);
            double clusterRecall = 0;
            for (var q = 0; q < queriesPerCluster; q++)
            {
                var query = GaussianClusters.Around(random, clusters.Centres[c], clusters.Spreads[c]);
                var truth = members[c].Select(n => graph.Nodes.Key(n)).OrderBy(k => SquaredDistance(query, clusters.Vectors[k])).Take(10).ToHashSet();
                var hits = index.Search(query, 10, null, ef).Count(r => truth.Contains(r.Key));
                clusterRecall += hits / (double)truth.Count;
                below += hits < 5 ? 1 : 0;
                outside += clusters.Labels[graph.Nodes.Key(GreedyDescent(graph, clusters, query))] != c ? 1 : 0;
                queries++;
            }

            recallSum += clusterRecall;
            var largest = string.Join("/", parts.OrderByDescending(p => p.Size).Take(4).Select(p => $"{p.Size}({p.FirstLoad} first)"));
            byCluster.Add((clusterRecall / Math.Max(1, queriesPerCluster), string.Create(CultureInfo.InvariantCulture, $"c{c} {{0:F2}} [{members[c].Count} nodes, sigma {clusters.Spreads[c]:F2}, parts {largest}]")));
        }

        var worstClusters = string.Join("; ", byCluster.OrderBy(x => x.Recall).Take(worst).Select(x => string.Format(CultureInfo.InvariantCulture, x.Note, x.Recall)));
        return string.Create(
            CultureInfo.InvariantCulture,
            $"recall@10 ef {ef} {recallSum / Math.Max(1, queries):F4}, queries < 0.5: {below}/{queries}; greedy descent ends outside the query's cluster: {outside}; clusters split at layer 0: {split}, nodes in islands without first-load nodes: {islandVectors}; worst: {worstClusters}");
    }

    // The connected parts of a cluster's vectors through their layer-0 links to one another (either direction), with how
    // many first-load vectors (keys below first) each holds.
    private static List<(int Size, int FirstLoad)> Parts(HnswGraph graph, List<int> members, int first)
    {
        var inCluster = members.ToHashSet();
        var neighbours = members.ToDictionary(n => n, _ => new List<int>());
        foreach (var node in members)
        {
            var links = graph.Nodes.Links0(node);
            for (var j = 1; j <= links[0]; j++)
            {
                if (inCluster.Contains(links[j]))
                {
                    neighbours[node].Add(links[j]);
                    neighbours[links[j]].Add(node);
                }
            }
        }

        var seen = new HashSet<int>();
        var parts = new List<(int, int)>();
        foreach (var start in members)
        {
            if (!seen.Add(start))
            {
                continue;
            }

            int size = 0, firstLoad = 0;
            var stack = new Stack<int>([start]);
            while (stack.TryPop(out var node))
            {
                size++;
                firstLoad += graph.Nodes.Key(node) < first ? 1 : 0;
                foreach (var next in neighbours[node].Where(seen.Add))
                {
                    stack.Push(next);
                }
            }

            parts.Add((size, firstLoad));
        }

        return parts;
    }

    // Where the paper's greedy walk of the upper layers hands over to layer 0 (UpperBeam 1).
    private static int GreedyDescent(HnswGraph graph, GaussianClusters clusters, float[] query)
    {
        var entry = graph.EntryForPersistence;
        var current = (int)(entry & 0xFFFFFFFF);
        var currentDistance = SquaredDistance(query, clusters.Vectors[graph.Nodes.Key(current)]);
        for (var level = (int)(entry >> 32); level > 0; level--)
        {
            var moved = true;
            while (moved)
            {
                moved = false;
                ref var list = ref graph.Nodes.LinksRef(current, level);
                for (var j = 1; j <= list; j++)
                {
                    var other = Unsafe.Add(ref list, j);
                    var distance = SquaredDistance(query, clusters.Vectors[graph.Nodes.Key(other)]);
                    if (distance < currentDistance)
                    {
                        (currentDistance, current, moved) = (distance, other, true);
                    }
                }
            }
        }

        return current;
    }

    private static float SquaredDistance(float[] a, float[] b)
    {
        var distance = System.Numerics.Tensors.TensorPrimitives.Distance(a, b);
        return distance * distance;
    }
}
