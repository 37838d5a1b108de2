using System.Numerics.Tensors;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Picks a spread-out list from candidates sorted by descending score without pulling in records
/// from far down the score order: maximal marginal relevance (Carbonell and Goldstein, 1998)
/// restricted to a sliding window of the best remaining candidates.
/// </summary>
/// <remarks>
/// With scores scaled to <c>s_i</c> in 0..1 (divided by the largest) and <c>sim_i</c> the largest
/// cosine similarity between candidate i and a record already picked (0 before the first pick):
/// <code>
/// window = the first W candidates in score order not picked yet
/// next   = argmax over window of  lambda s_i - (1 - lambda) max(sim_i, 0)
/// </code>
/// The bound is the point: the record at position t of the list has score rank at most t + W - 1,
/// so the list's top k always comes from the top k + W - 1 by score, whatever the geometry.
/// W = 1 (or lambda = 1) is plain score order. Because a pick depends only on earlier picks, the
/// list is prefix-stable: asking for more entries never reorders the first ones. Ties break by
/// lower index (higher score).
/// </remarks>
internal static class ScoreBoundedDiversitySelector
{
    /// <summary>Returns up to <paramref name="count"/> indices into the candidates, in pick order.</summary>
    /// <param name="unitEmbeddings">L2-normalised embeddings, in descending score order.</param>
    /// <param name="scores">The candidates' scores, descending.</param>
    /// <param name="count">How many to pick.</param>
    /// <param name="window">W: how many of the best remaining candidates a pick considers (1 = score order).</param>
    /// <param name="relevance">lambda, 0..1: weight of score against novelty.</param>
    public static IReadOnlyList<int> Select(
        IReadOnlyList<ReadOnlyMemory<float>> unitEmbeddings,
        IReadOnlyList<double> scores,
        int count,
        int window,
        double relevance)
    {
        ArgumentNullException.ThrowIfNull(unitEmbeddings);
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        var n = unitEmbeddings.Count;
        count = Math.Min(count, n);
        var picked = new List<int>(Math.Max(count, 0));
        if (count <= 0)
        {
            return picked;
        }

        if (window == 1 || relevance >= 1)
        {
            picked.AddRange(Enumerable.Range(0, count));
            return picked;
        }

        // No candidate beyond this can ever enter the window.
        var reach = Math.Min(n, count + window - 1);
        var maxScore = scores.Take(reach).Max();
        var similarity = new double[reach];
        var taken = new bool[reach];
        var first = 0; // lowest index not picked yet
        while (picked.Count < count)
        {
            var best = -1;
            var bestValue = double.NegativeInfinity;
            var seen = 0;
            for (var i = first; i < reach && seen < window; i++)
            {
                if (taken[i])
                {
                    continue;
                }

                seen++;
                var scaled = maxScore > 0 ? scores[i] / maxScore : 0;
                var value = (relevance * scaled) - ((1 - relevance) * similarity[i]);
                if (value > bestValue)
                {
                    bestValue = value;
                    best = i;
                }
            }

            picked.Add(best);
            taken[best] = true;
            while (first < reach && taken[first])
            {
                first++;
            }

            var center = unitEmbeddings[best];
            for (var i = first; i < reach; i++)
            {
                if (!taken[i])
                {
                    var cosine = TensorPrimitives.Dot(unitEmbeddings[i].Span, center.Span);
                    similarity[i] = Math.Max(similarity[i], Math.Max(cosine, 0));
                }
            }
        }

        return picked;
    }
}
