namespace Chroma.Server.Recommendations.Internal;

/// <summary>
/// The <c>count</c> best of a list of scores, in ranking order: score descending, ties by id (ordinal) ascending, the
/// same order as sorting the whole list, at O(n log count) instead of O(n log n) (a ranking needs its first few
/// thousand of up to millions of records).
/// </summary>
internal static class TopScores
{
    /// <summary>Returns the indices of the <paramref name="count"/> best entries, best first.</summary>
    /// <param name="scores">One score per entry.</param>
    /// <param name="ids">The id of each entry (the tie-break).</param>
    /// <param name="count">How many to return (all when larger than the list).</param>
    public static int[] Select(IReadOnlyList<double> scores, Func<int, string> ids, int count)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        count = Math.Min(count, scores.Count);
        var order = new Order(scores, ids);
        if (count == 0)
        {
            return [];
        }

        // A heap whose root is the worst entry kept: an entry enters only if it beats that root.
        var heap = new PriorityQueue<int, int>(count, Comparer<int>.Create((a, b) => order.Compare(b, a)));
        for (var i = 0; i < scores.Count; i++)
        {
            if (heap.Count < count)
            {
                heap.Enqueue(i, i);
            }
            else if (order.Compare(i, heap.Peek()) < 0)
            {
                heap.DequeueEnqueue(i, i);
            }
        }

        var result = new int[heap.Count];
        for (var k = result.Length - 1; k >= 0; k--)
        {
            result[k] = heap.Dequeue();
        }

        return result;
    }

    // Negative when entry a ranks before entry b.
    private readonly struct Order(IReadOnlyList<double> scores, Func<int, string> ids)
    {
        public int Compare(int a, int b)
        {
            var byScore = scores[b].CompareTo(scores[a]);
            return byScore != 0 ? byScore : string.CompareOrdinal(ids(a), ids(b));
        }
    }
}
