using System.Numerics.Tensors;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Picks a spread-out list from candidates sorted by descending score without changing which records a list of
/// whole blocks holds: maximal marginal relevance (Carbonell and Goldstein, 1998) applied within consecutive blocks
/// of W candidates by score, so spreading reorders records and never trades one for another from further down.
/// </summary>
/// <remarks>
/// With scores scaled to <c>s_i</c> in 0..1 (divided by the largest) and <c>sim_i</c> the largest
/// cosine similarity between candidate i and a record already picked, among the latest
/// <see cref="SimilarityHorizon"/> picks (0 before the first pick):
/// <code>
/// block  = candidates [W floor(t / W), W floor(t / W) + W) by score, for list position t
/// next   = argmax over the block's candidates not picked yet of  lambda s_i - (1 - lambda) max(sim_i, 0)
/// </code>
/// Positions [bW, bW + W) of the list hold exactly the candidates of score ranks [bW, bW + W), reordered, so for every
/// k the list's top k contains the top W floor(k / W) by score (all of the top k when W divides k) and no entry is more
/// than W - 1 places from its score rank, either way. W = 1 (or lambda = 1) is plain score order. Because a pick
/// depends only on earlier picks, the list is prefix-stable: asking for more entries never reorders the first ones.
/// Ties break by lower index (higher score).
/// Why blocks and not a window sliding over the next W records by score (the previous design): the sliding window
/// bounded how far down it reached, but not which records it pushed out of the list. Once a region has a pick, every
/// other member of it pays its similarity to that pick at every later position, so the members of the tightest region
/// are the ones delayed, and those past the cut drop out. A shift is that tight region: records moved by one cause
/// look alike (the MNIST model's unseen class 9 at cosine 0.98-0.99 to another served 9, 0.91-0.96 to the nearest
/// served normal digit), so the served top 100 lost 3 of 24 shifted records to normal digits of score rank 101-107
/// (tests/Chroma.Benchmarks README, "Spreading within blocks"). Within a block the same tax still orders the records;
/// it can no longer replace one.
/// </remarks>
internal static class ScoreBoundedDiversitySelector
{
    /// <summary>
    /// How many of the latest picks a candidate's similarity is measured against (all of them for the first
    /// <c>SimilarityHorizon</c> positions): 1,000, the near-duplicate grouping's reach
    /// (<see cref="RecommendationOptions.CandidatePoolSize"/>). Against every earlier pick, a list of n entries cost
    /// n^2 d / 2 multiply-adds: a first page-through of a 60,000-record ranking with the default diversity took 75 s on an
    /// idle machine (3.6 s with diversity off), and a deep page of a million-record set would have taken hours.
    /// </summary>
    public const int SimilarityHorizon = 1_000;

    /// <summary>Returns up to <paramref name="count"/> indices into the candidates, in pick order.</summary>
    /// <param name="unitEmbeddings">L2-normalised embeddings, in descending score order.</param>
    /// <param name="scores">The candidates' scores, descending.</param>
    /// <param name="count">How many to pick.</param>
    /// <param name="window">W: the block size, how many candidates by score each run of W picks reorders (1 = score order).</param>
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

        // No candidate beyond the block of the last position can be picked.
        var reach = (int)Math.Min(n, ((long)(count - 1) / window * window) + window);
        var maxScore = scores.Take(reach).Max();
        var similarity = new double[window];
        var taken = new bool[window];
        while (picked.Count < count)
        {
            // A new block: its candidates' similarity to the picks within the horizon, measured once.
            var start = picked.Count;
            var end = Math.Min(reach, start + window);
            for (var i = start; i < end; i++)
            {
                var largest = 0.0;
                var embedding = unitEmbeddings[i].Span;
                for (var p = Math.Max(0, start - SimilarityHorizon); p < start; p++)
                {
                    largest = Math.Max(largest, TensorPrimitives.Dot(embedding, unitEmbeddings[picked[p]].Span));
                }

                similarity[i - start] = largest;
                taken[i - start] = false;
            }

            while (picked.Count < end && picked.Count < count)
            {
                var best = -1;
                var bestValue = double.NegativeInfinity;
                for (var i = start; i < end; i++)
                {
                    if (taken[i - start])
                    {
                        continue;
                    }

                    var scaled = maxScore > 0 ? scores[i] / maxScore : 0;
                    var value = (relevance * scaled) - ((1 - relevance) * similarity[i - start]);
                    if (value > bestValue)
                    {
                        bestValue = value;
                        best = i;
                    }
                }

                picked.Add(best);
                taken[best - start] = true;
                var center = unitEmbeddings[best].Span;
                for (var i = start; i < end; i++)
                {
                    if (!taken[i - start])
                    {
                        var cosine = TensorPrimitives.Dot(unitEmbeddings[i].Span, center);
                        similarity[i - start] = Math.Max(similarity[i - start], Math.Max(cosine, 0));
                    }
                }
            }
        }

        return picked;
    }
}
