using System.Numerics.Tensors;

namespace Chroma.Server.Recommendations;

/// <summary>
/// The <see cref="RecommendationStrategy.Labeling"/> list: a batch to label that is both uncertain and representative
/// of the production inputs the model serves, in an order whose every prefix is such a batch. BADGE's selection
/// (Ash et al. 2020): k-means++ seeding on gradient embeddings, built from what the engine stores for each record.
/// </summary>
/// <remarks>
/// <para>
/// Out-of-distribution inputs are left for review: a record whose stronger distance signal (Mahalanobis or kNN) is
/// beyond <see cref="SignalCombiner.LabelingDistanceAllowance"/> (one in a thousand) is not a candidate; such records
/// follow every candidate, in score order.
/// </para>
/// <para>
/// Each candidate stands for the gradient of the loss on its predicted class with respect to the last layer,
/// <c>g = q h^T</c> with <c>q = p - e_y</c> (p the logged class probabilities rescaled to sum to 1, y the most
/// probable class, h the unit embedding). The norm of q grows with the uncertainty; its direction says which classes
/// the model hesitates between. Squared distances need only dot products:
/// <code>
/// d^2(i, j) = |q_i|^2 + |q_j|^2 - 2 (q_i . q_j) cos(h_i, h_j)
/// </code>
/// A record without probabilities has a q of norm equal to its share of disagreeing training neighbours, shared in
/// direction with the others of its predicted class only. The gradient alone favours what the model is unsure of, and
/// under a strong shift a model is also confidently wrong on much of its traffic (a small gradient, never drawn); so
/// each candidate is the gradient embedding next to its unit embedding, <c>[q h^T, w h]</c>, and
/// <code>
/// d^2(i, j) = |q_i|^2 + |q_j|^2 - 2 (q_i . q_j) cos(h_i, h_j)  +  w^2 (2 - 2 cos(h_i, h_j))
/// </code>
/// with <c>w</c> = <see cref="EmbeddingWeight"/> (both parts are at most 4 per pair, so neither swamps the other):
/// the seeding then spreads over the inputs the model serves as well as over its doubts. The first pick is the largest <c>|q|</c>; each next pick
/// is drawn with probability proportional to its squared distance to the nearest pick so far (k-means++ seeding,
/// with a fixed seed so the list is deterministic). Confident records sit near the origin and are rarely drawn;
/// uncertain ones are drawn in proportion to how much of the pool they represent and how far they are from what is
/// already picked, so the picks cover every region and class pair the model is unsure of instead of piling up at one
/// boundary. Near-duplicates of a pick (unit embeddings within <see cref="RecommendationOptions.NearDuplicateThreshold"/>)
/// are collapsed into it. Each pick depends only on the earlier ones, so the list is prefix-stable: its first k
/// entries are the batch for a budget of k labels. Candidates never drawn (certain ones) follow in score order.
/// </para>
/// <para>
/// At most <see cref="MaxCandidates"/> candidates take part (a sample chosen by a hash of the id above it), which
/// bounds one ranking at <c>count x MaxCandidates x dimension</c> operations.
/// </para>
/// </remarks>
internal static class LabelingSelector
{
    /// <summary>Most candidates the seeding draws from: 20,000.</summary>
    public const int MaxCandidates = 20_000;

    /// <summary>Weight <c>w</c> of the unit embedding next to the gradient embedding: 1.</summary>
    public const double EmbeddingWeight = 1;

    private const int Seed = 20_200_407;

    /// <summary>Returns up to <paramref name="count"/> recommendations in pick order.</summary>
    /// <param name="records">Scored production records.</param>
    /// <param name="scores">Their labeling scores (<see cref="SignalCombiner.Score"/>).</param>
    /// <param name="count">How many to return.</param>
    /// <param name="options">The near-duplicate threshold.</param>
    /// <param name="embeddingWeight">Weight of the unit embedding next to the gradient embedding (0 = BADGE's gradient embedding alone).</param>
    public static IReadOnlyList<Recommendation> Select(
        IReadOnlyList<ScoredRecord> records, double[] scores, int count, RecommendationOptions options, double embeddingWeight = EmbeddingWeight)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(options);
        var n = records.Count;
        var scoreOrder = Enumerable.Range(0, n)
            .OrderByDescending(i => scores[i])
            .ThenBy(i => records[i].Id, StringComparer.Ordinal)
            .ToArray();
        var scoreRank = new int[n];
        for (var r = 0; r < n; r++)
        {
            scoreRank[scoreOrder[r]] = r + 1;
        }

        var candidates = Candidates(records);
        var picks = Seeding(records, candidates, count, options.NearDuplicateThreshold, embeddingWeight * embeddingWeight, scoreOrder);

        var result = new List<Recommendation>(Math.Min(count, n));
        var used = new bool[n];
        foreach (var (index, duplicates) in picks)
        {
            used[index] = true;
            foreach (var d in duplicates)
            {
                used[d] = true;
            }

            result.Add(Entry(records[index], scores[index], scoreRank[index], [.. duplicates.OrderBy(d => scoreRank[d]).Select(d => records[d].Id)]));
        }

        // Candidates the seeding never reached, then the records left for review, each in score order.
        var isCandidate = new bool[n];
        foreach (var c in candidates)
        {
            isCandidate[c] = true;
        }

        foreach (var pass in new[] { true, false })
        {
            foreach (var i in scoreOrder)
            {
                if (result.Count >= count)
                {
                    return result;
                }

                if (!used[i] && isCandidate[i] == pass)
                {
                    used[i] = true;
                    result.Add(Entry(records[i], scores[i], scoreRank[i], []));
                }
            }
        }

        return result;
    }

    /// <summary>
    /// The gradient factor <c>q = p - e_y</c> of <paramref name="record"/> (see the remarks), or null when the record
    /// has no usable probabilities.
    /// </summary>
    public static double[]? GradientFactor(ScoredRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Probabilities is not { Length: > 0 } p)
        {
            return null;
        }

        double total = 0;
        foreach (var v in p)
        {
            total += v;
        }

        if (!(total > 0))
        {
            return null;
        }

        var q = new double[p.Length];
        var top = 0;
        for (var c = 0; c < p.Length; c++)
        {
            q[c] = p[c] / total;
            if (p[c] > p[top])
            {
                top = c;
            }
        }

        q[top] -= 1;
        return q;
    }

    private static Recommendation Entry(ScoredRecord record, double score, int rank, string[] duplicates) =>
        new(record.Id, score, record.Signals, ReasonWriter.Write(record, RecommendationStrategy.Labeling), duplicates) { ScoreRank = rank };

    private static int[] Candidates(IReadOnlyList<ScoredRecord> records)
    {
        var eligible = Enumerable.Range(0, records.Count)
            .Where(i => SignalCombiner.LabelingDistanceExcess(records[i].Signals) <= 0)
            .ToArray();
        if (eligible.Length <= MaxCandidates)
        {
            return eligible;
        }

        return [.. eligible.OrderBy(i => IdHash(records[i].Id)).ThenBy(i => records[i].Id, StringComparer.Ordinal).Take(MaxCandidates)];
    }

    private static List<(int Index, List<int> Duplicates)> Seeding(
        IReadOnlyList<ScoredRecord> records, int[] candidates, int count, double duplicateThreshold, double embeddingWeight2, int[] scoreOrder)
    {
        var m = candidates.Length;
        var picks = new List<(int, List<int>)>();
        if (m == 0 || count <= 0)
        {
            return picks;
        }

        var factor = new double[m][];
        var norm2 = new double[m];
        var block = new int[m];
        var blocks = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var c = 0; c < m; c++)
        {
            var record = records[candidates[c]];
            if (GradientFactor(record) is { } q)
            {
                factor[c] = q;
                norm2[c] = q.Sum(v => v * v);
                block[c] = -1;
                continue;
            }

            // No probabilities: one direction per predicted class, as long as the share of disagreeing neighbours.
            var share = record.Signal(SignalKind.Boundary)?.Value ?? 1;
            factor[c] = [share];
            norm2[c] = share * share;
            var predicted = record.PredictedClass ?? string.Empty;
            if (!blocks.TryGetValue(predicted, out var b))
            {
                blocks[predicted] = b = blocks.Count;
            }

            block[c] = b;
        }

        // First pick: the largest gradient norm (ties: higher score, then id, via the score order).
        var position = new int[records.Count];
        for (var r = 0; r < scoreOrder.Length; r++)
        {
            position[scoreOrder[r]] = r;
        }

        var first = 0;
        for (var c = 1; c < m; c++)
        {
            if (norm2[c] > norm2[first] || (norm2[c] == norm2[first] && position[candidates[c]] < position[candidates[first]]))
            {
                first = c;
            }
        }

        var nearest = new double[m];
        Array.Fill(nearest, double.PositiveInfinity);
        var taken = new bool[m];
        var random = new Random(Seed);
        var pick = first;
        var threshold = duplicateThreshold * duplicateThreshold;
        while (true)
        {
            taken[pick] = true;
            var duplicates = Update(records, candidates, factor, norm2, block, nearest, taken, pick, threshold, embeddingWeight2);
            picks.Add((candidates[pick], duplicates));
            if (picks.Count >= count)
            {
                return picks;
            }

            double total = 0;
            for (var c = 0; c < m; c++)
            {
                total += taken[c] ? 0 : nearest[c];
            }

            if (!(total > 0))
            {
                return picks;
            }

            var target = random.NextDouble() * total;
            pick = -1;
            for (var c = 0; c < m; c++)
            {
                if (taken[c] || !(nearest[c] > 0))
                {
                    continue;
                }

                pick = c;
                target -= nearest[c];
                if (target < 0)
                {
                    break;
                }
            }

            if (pick < 0)
            {
                return picks;
            }
        }
    }

    // Lowers each candidate's squared distance to its nearest pick with the new pick's; takes the pick's near-duplicates.
    private static List<int> Update(
        IReadOnlyList<ScoredRecord> records,
        int[] candidates,
        double[][] factor,
        double[] norm2,
        int[] block,
        double[] nearest,
        bool[] taken,
        int pick,
        double threshold,
        double embeddingWeight2)
    {
        var m = candidates.Length;
        var pickEmbedding = records[candidates[pick]].UnitEmbedding;
        var duplicate = new bool[m];
        Parallel.For(0, m, new ParallelOptions { MaxDegreeOfParallelism = m >= 4_096 ? -1 : 1 }, c =>
        {
            if (taken[c])
            {
                return;
            }

            var embedding = records[candidates[c]].UnitEmbedding.Span;
            var cosine = embedding.Length == pickEmbedding.Length ? TensorPrimitives.Dot(embedding, pickEmbedding.Span) : 0;
            duplicate[c] = block[c] == block[pick] && Math.Max(0, 2 - (2 * cosine)) <= threshold;
            double factors = 0;
            if (block[c] == block[pick] && factor[c].Length == factor[pick].Length)
            {
                for (var k = 0; k < factor[c].Length; k++)
                {
                    factors += factor[c][k] * factor[pick][k];
                }
            }

            var d2 = Math.Max(0, norm2[c] + norm2[pick] - (2 * factors * cosine)) + (embeddingWeight2 * Math.Max(0, 2 - (2 * cosine)));
            nearest[c] = Math.Min(nearest[c], d2);
        });

        var duplicates = new List<int>();
        for (var c = 0; c < m; c++)
        {
            if (duplicate[c])
            {
                taken[c] = true;
                duplicates.Add(candidates[c]);
            }
        }

        return duplicates;
    }

    private static ulong IdHash(string id)
    {
        // FNV-1a over the UTF-16 code units: stable across processes (string.GetHashCode is randomised).
        var hash = 14_695_981_039_346_656_037UL;
        foreach (var ch in id)
        {
            hash = (hash ^ ch) * 1_099_511_628_211UL;
        }

        return hash;
    }
}
