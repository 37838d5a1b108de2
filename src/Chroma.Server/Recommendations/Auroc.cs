namespace Chroma.Server.Recommendations;

/// <summary>
/// Area under the ROC curve of a score that should rank positives above negatives: the
/// probability that a random positive outscores a random negative, ties counting one half
/// (Mann-Whitney U / (n+ n-), computed with mid-ranks in O(n log n)).
/// </summary>
internal static class Auroc
{
    /// <summary>AUROC of <paramref name="scores"/> against <paramref name="isPositive"/>; needs both classes present.</summary>
    public static double Compute(IReadOnlyList<double> scores, IReadOnlyList<bool> isPositive)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(isPositive);
        if (scores.Count != isPositive.Count)
        {
            throw new ArgumentException($"scores has {scores.Count} entries but isPositive has {isPositive.Count}.", nameof(isPositive));
        }

        if (scores.Any(double.IsNaN))
        {
            throw new ArgumentException("scores must not contain NaN.", nameof(scores));
        }

        var positives = isPositive.Count(p => p);
        var negatives = scores.Count - positives;
        if (positives == 0 || negatives == 0)
        {
            throw new ArgumentException("AUROC needs at least one positive and one negative.", nameof(isPositive));
        }

        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        double positiveRankSum = 0;
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && scores[order[end + 1]] == scores[order[start]])
            {
                end++;
            }

            // Ranks are 1-based; tied scores share the mean of their ranks.
            var midRank = ((start + end) / 2.0) + 1;
            for (var k = start; k <= end; k++)
            {
                if (isPositive[order[k]])
                {
                    positiveRankSum += midRank;
                }
            }

            start = end + 1;
        }

        return (positiveRankSum - (positives * (positives + 1) / 2.0)) / ((double)positives * negatives);
    }
}
