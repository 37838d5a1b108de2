using System.Numerics.Tensors;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Groups near-duplicate records: records i and j are linked when the Euclidean distance between
/// their L2-normalised embeddings is at most a threshold, and groups are the connected components
/// of that relation (union-find), so a chain of near-copies forms one group.
/// </summary>
/// <remarks>
/// All pairs at most <c>reach</c> places apart are compared (O(m reach d), parallel SIMD). The ranking passes its records in
/// score order with <c>reach</c> = <see cref="RecommendationOptions.CandidatePoolSize"/>, so each record is compared with
/// the pool-sized slice scored just above it: a flood of near-copies, which scores alike and so lies together in the score
/// order, chains into one group however long it is, at a cost linear in the number of records ranked.
/// </remarks>
internal static class NearDuplicateGrouper
{
    /// <summary>Returns the groups as lists of indices into <paramref name="unitEmbeddings"/>, each ascending, groups ordered by first member.</summary>
    /// <param name="unitEmbeddings">L2-normalised embeddings.</param>
    /// <param name="threshold">Largest distance of two near-duplicates.</param>
    /// <param name="reach">How many places apart two records may lie and still be compared (all pairs when at least the count).</param>
    public static IReadOnlyList<IReadOnlyList<int>> Group(IReadOnlyList<ReadOnlyMemory<float>> unitEmbeddings, double threshold, int reach = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(unitEmbeddings);
        ArgumentOutOfRangeException.ThrowIfLessThan(reach, 1);
        var count = unitEmbeddings.Count;
        var links = new List<(int, int)>[count];
        var squaredThreshold = (float)(threshold * threshold);
        Parallel.For(0, count, i =>
        {
            var a = unitEmbeddings[i].Span;
            List<(int, int)>? found = null;
            var end = (int)Math.Min(count, (long)i + reach + 1);
            for (var j = i + 1; j < end; j++)
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
