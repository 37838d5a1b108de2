using System.Numerics.Tensors;
using Chroma.Protocol.V1;
using Chroma.Server.Indexing;
using Chroma.Server.Storage;

namespace Chroma.Server.Services.Internal;

/// <summary>
/// An exact FindNearest (<c>exact = true</c>) while the set's index is behind the store: the records the index has not
/// taken in yet are read from the store and scanned too, so an exact answer misses no acknowledged record. During a
/// bulk load an index under construction takes records in only as fast as its graph is built; an outside probe found
/// records acknowledged a minute earlier missing from exact answers.
/// </summary>
internal static class UnindexedTailScan
{
    /// <summary>Records read from the store per page.</summary>
    public const int PageSize = 4_096;

    /// <summary>
    /// The <paramref name="depth"/> nearest of the set's live records stored after <paramref name="afterSequence"/> (up to
    /// <paramref name="throughSequence"/>, what the store had committed when the query arrived), nearest first, in the
    /// distances the index reports: squared L2, or 1 - cosine similarity.
    /// </summary>
    public static List<VectorNeighbor> Nearest(
        IRecordStore store, StoredEmbeddingSet set, float[] query, int depth, string? dataset, long afterSequence, long throughSequence, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(query);
        var cosine = set.Metric == DistanceMetric.Cosine;
        var probe = (float[])query.Clone();
        if (cosine)
        {
            UnitVector.TryNormalize(probe); // the query was checked for a direction
        }

        // Cosine: each stored vector's unit vector (its float32 norm may underflow); L2: the difference to the probe.
        var difference = new float[probe.Length];
        var farthestFirst = new PriorityQueue<VectorNeighbor, float>(Comparer<float>.Create((a, b) => b.CompareTo(a)));
        for (var cursor = afterSequence; cursor < throughSequence;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = store.ReadChanges(set, cursor, PageSize);
            for (var i = 0; i < page.Sequences.Length; i++)
            {
                if (page.Sequences[i] > throughSequence || (dataset is not null && page.Datasets[i] != dataset))
                {
                    continue;
                }

                var vector = page.Vectors.AsSpan(i * probe.Length, probe.Length);
                float distance;
                if (cosine)
                {
                    UnitVector.TryNormalize(vector, difference);
                    distance = 1f - TensorPrimitives.Dot(probe, difference);
                }
                else
                {
                    TensorPrimitives.Subtract(probe, vector, difference);
                    distance = TensorPrimitives.Dot(difference, difference);
                }

                if (farthestFirst.Count < depth)
                {
                    farthestFirst.Enqueue(new VectorNeighbor(page.Sequences[i], distance), distance);
                }
                else if (farthestFirst.TryPeek(out _, out var farthest) && distance < farthest)
                {
                    farthestFirst.EnqueueDequeue(new VectorNeighbor(page.Sequences[i], distance), distance);
                }
            }

            if (!page.HasMore || page.Through <= cursor)
            {
                break;
            }

            cursor = page.Through;
        }

        var nearest = new List<VectorNeighbor>(farthestFirst.Count);
        while (farthestFirst.TryDequeue(out var neighbor, out _))
        {
            nearest.Add(neighbor);
        }

        nearest.Reverse();
        return nearest;
    }

    /// <summary>The <paramref name="depth"/> nearest of both lists, each sequence once (the index may have taken in part of the tail meanwhile).</summary>
    public static IReadOnlyList<VectorNeighbor> Merge(IReadOnlyList<VectorNeighbor> indexed, IReadOnlyList<VectorNeighbor> tail, int depth) =>
        [.. indexed.Concat(tail).DistinctBy(n => n.Sequence).OrderBy(n => n.Distance).ThenBy(n => n.Sequence).Take(depth)];
}
