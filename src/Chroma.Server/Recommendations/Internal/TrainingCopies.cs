using System.Runtime.InteropServices;
using System.Numerics.Tensors;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Finds training rows that are copies of one another: exact copies (the same floats) and near copies (unit vectors
/// within <see cref="RecommendationOptions.NearDuplicateThreshold"/>, chained as <see cref="NearDuplicateGrouper"/>
/// chains them). Training data often holds a record several times (a capture that logs the training rows every epoch,
/// a frozen encoder): a held-out record whose copies stay in the fit, or a classifier fold whose rows have copies in
/// the other folds, sees its own record again, which no production record does.
/// </summary>
/// <remarks>
/// Bounded at any size: exact copies by hashing each row's bytes, O(n d); near copies only for the rows that need them
/// (the held-out records, the production-shift sample), through the neighbour search the fit builds anyway: one search
/// of 2 (k + 1) rows per queried row, wider only while copies fill it. A near copy the search does not find (a row
/// outside a sampled search, or under L2 one whose length differs much) is not found.
/// </remarks>
internal static class TrainingCopies
{
    /// <summary>For each training row, the first row (lowest index) holding exactly the same floats.</summary>
    public static int[] ExactFirstCopies(TrainingData training)
    {
        ArgumentNullException.ThrowIfNull(training);
        var first = new int[training.Count];
        var byHash = new Dictionary<int, List<int>>();
        for (var r = 0; r < training.Count; r++)
        {
            var row = training.Row(r);
            var hash = new HashCode();
            hash.AddBytes(MemoryMarshal.AsBytes(row));
            var key = hash.ToHashCode();
            first[r] = r;
            if (!byHash.TryGetValue(key, out var candidates))
            {
                byHash[key] = [r];
                continue;
            }

            var match = -1;
            foreach (var candidate in candidates)
            {
                if (training.Row(candidate).SequenceEqual(row))
                {
                    match = candidate;
                    break;
                }
            }

            if (match >= 0)
            {
                first[r] = match;
            }
            else
            {
                candidates.Add(r);
            }
        }

        return first;
    }

    /// <summary>
    /// The search indices of the rows linked to <paramref name="query"/> by a chain of near copies (unit distance at
    /// most <paramref name="threshold"/>, each link between the query or a member and the next) among its nearest rows,
    /// its own row included when the search holds it; ascending.
    /// </summary>
    /// <param name="search">The training neighbour search.</param>
    /// <param name="searchRows">The rows it was built from, row-major (raw or unit), indexed like it.</param>
    /// <param name="query">The query as the search takes it (raw for L2, unit for cosine).</param>
    /// <param name="unitQuery">The query's unit vector.</param>
    /// <param name="neighborCount">k: the first search asks for 2 (k + 1) rows, more while copies fill it.</param>
    /// <param name="threshold">Largest distance between unit vectors that links two rows.</param>
    /// <param name="metric">The set's metric: under L2 linked rows must also lie within the threshold times the longer one's length.</param>
    public static int[] NearCopies(
        ITrainingNeighborSearch search,
        float[] searchRows,
        ReadOnlySpan<float> query,
        ReadOnlySpan<float> unitQuery,
        int neighborCount,
        double threshold,
        NeighborMetric metric)
    {
        ArgumentNullException.ThrowIfNull(search);
        ArgumentNullException.ThrowIfNull(searchRows);
        var d = unitQuery.Length;
        var total = searchRows.Length / Math.Max(d, 1);
        var squared = (float)(threshold * threshold);
        var want = Math.Min(2 * (neighborCount + 1), total);
        var cap = Math.Min(Math.Max(MaxSearched, 2 * (neighborCount + 1)), total);
        while (true)
        {
            var found = search.Search(query, want);
            var units = new float[found.Count * d];
            for (var i = 0; i < found.Count; i++)
            {
                UnitVectors.Normalize(searchRows.AsSpan(found[i].TrainingIndex * d, d), units.AsSpan(i * d, d));
            }

            // Breadth-first from the query over the found rows: a row joins when it is near the query or a member.
            var member = new bool[found.Count];
            var members = new List<int>();
            var frontier = new Queue<int>();
            for (var i = 0; i < found.Count; i++)
            {
                if (Linked(unitQuery, units.AsSpan(i * d, d), query, searchRows.AsSpan(found[i].TrainingIndex * d, d)))
                {
                    member[i] = true;
                    members.Add(i);
                    frontier.Enqueue(i);
                }
            }

            while (frontier.TryDequeue(out var m))
            {
                var from = units.AsSpan(m * d, d);
                var fromRow = searchRows.AsSpan(found[m].TrainingIndex * d, d);
                for (var i = 0; i < found.Count; i++)
                {
                    if (!member[i] && Linked(from, units.AsSpan(i * d, d), fromRow, searchRows.AsSpan(found[i].TrainingIndex * d, d)))
                    {
                        member[i] = true;
                        members.Add(i);
                        frontier.Enqueue(i);
                    }
                }
            }

            // Copies may lie beyond the list while fewer than k + 1 of the rows found are not copies.
            if (found.Count - members.Count <= neighborCount && want < cap)
            {
                want = (int)Math.Min(2L * want, cap);
                continue;
            }

            return [.. members.Select(i => found[i].TrainingIndex).Order()];
        }

        // Unit vectors within the threshold; under L2 the rows themselves too, relative to the longer one (a vector
        // and a longer one in the same direction are not copies where lengths count).
        bool Linked(ReadOnlySpan<float> unitA, ReadOnlySpan<float> unitB, ReadOnlySpan<float> rowA, ReadOnlySpan<float> rowB)
        {
            var unit = TensorPrimitives.Distance(unitA, unitB);
            if (unit * unit > squared)
            {
                return false;
            }

            if (metric == NeighborMetric.Cosine)
            {
                return true;
            }

            var raw = TensorPrimitives.Distance(rowA, rowB);
            var longer = Math.Max(TensorPrimitives.Norm(rowA), TensorPrimitives.Norm(rowB));
            return raw * raw <= squared * longer * longer;
        }
    }

    /// <summary>The most rows one near-copy search asks for (a record with more copies keeps the rest as neighbours).</summary>
    public const int MaxSearched = 1_024;
}
