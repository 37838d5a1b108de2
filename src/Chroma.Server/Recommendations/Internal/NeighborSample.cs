namespace Chroma.Server.Recommendations.Internal;

/// <summary>
/// The rows of the neighbour search: all fitted rows up to a cap, above it a seeded per-class sample of the cap,
/// each class in proportion to its size and never left out.
/// </summary>
internal static class NeighborSample
{
    /// <summary>
    /// Returns <paramref name="fitRows"/> itself when it holds at most <paramref name="maxRows"/> rows, else a sorted,
    /// seeded sample of about <paramref name="maxRows"/> of them (per class: its share of the cap, at least one row).
    /// </summary>
    public static int[] Take(int[] fitRows, IReadOnlyList<string> labels, int maxRows, int seed)
    {
        ArgumentNullException.ThrowIfNull(fitRows);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        if (fitRows.Length <= maxRows)
        {
            return fitRows;
        }

        var fraction = maxRows / (double)fitRows.Length;
#pragma warning disable CA5394 // A seeded, reproducible sample is the point; nothing here is security-sensitive.
        var random = new Random(seed);
        var sample = new List<int>(maxRows + 64);
        foreach (var members in fitRows.GroupBy(i => labels[i], StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var rows = members.ToArray();
            random.Shuffle(rows);
            var take = Math.Clamp((int)Math.Round(rows.Length * fraction), 1, rows.Length);
            sample.AddRange(rows.AsSpan(0, take));
        }
#pragma warning restore CA5394

        sample.Sort();
        return sample.ToArray();
    }
}
