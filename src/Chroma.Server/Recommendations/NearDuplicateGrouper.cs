using System.Numerics.Tensors;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Groups near-duplicate records: records i and j are linked when the Euclidean distance between
/// their L2-normalised embeddings is at most a threshold, and groups are the connected components
/// of that relation (union-find), so a chain of near-copies forms one group.
/// </summary>
/// <remarks>All pairs are compared (O(m^2 d), parallel SIMD); the ranking applies it to its candidate pool.</remarks>
internal static class NearDuplicateGrouper
{
    /// <summary>Returns the groups as lists of indices into <paramref name="unitEmbeddings"/>, each ascending, groups ordered by first member.</summary>
    public static IReadOnlyList<IReadOnlyList<int>> Group(IReadOnlyList<ReadOnlyMemory<float>> unitEmbeddings, double threshold)
    {
        ArgumentNullException.ThrowIfNull(unitEmbeddings);
        var count = unitEmbeddings.Count;
        var links = new List<(int, int)>[count];
        var squaredThreshold = (float)(threshold * threshold);
        Parallel.For(0, count, i =>
        {
            var a = unitEmbeddings[i].Span;
            List<(int, int)>? found = null;
            for (var j = i + 1; j < count; j++)
            {
                var b = unitEmbeddings[j].Span;
                var diff = TensorPrimitives.Distance(a, b);
                if (diff * diff <= squaredThreshold)
                {
                    (found ??= []).Add((i, j));
                }
            }

            links[i] = found ?? [];
        });

        var sets = new DisjointSets(count);
        foreach (var list in links)
        {
            foreach (var (a, b) in list)
            {
                sets.Union(a, b);
            }
        }

        var groups = new Dictionary<int, List<int>>();
        var ordered = new List<List<int>>();
        for (var i = 0; i < count; i++)
        {
            var root = sets.Find(i);
            if (!groups.TryGetValue(root, out var group))
            {
                group = [];
                groups[root] = group;
                ordered.Add(group);
            }

            group.Add(i);
        }

        return ordered;
    }
}
