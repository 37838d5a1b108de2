using System.Numerics.Tensors;

namespace Chroma.Server.Recommendations;

/// <summary>
/// The <see cref="RecommendationStrategy.Labeling"/> list: a batch to label that represents the production inputs of
/// the kind the model was trained for, in an order whose every prefix is such a batch. Typicality-based selection for
/// small budgets, as TypiClust (Hacohen et al. 2022) and ProbCover (Yehuda et al. 2022) do, in a prefix-stable form:
/// greedy k-medians over the candidates' unit embeddings (<see cref="GreedyMedians"/>), with the training rows as
/// picks already made.
/// </summary>
/// <remarks>
/// <para>
/// Out-of-distribution inputs are left for review: a record whose stronger distance signal (Mahalanobis or kNN) is
/// beyond <see cref="SignalCombiner.LabelingDistanceAllowance"/> (one in a thousand) is not a candidate; such records
/// follow every candidate, in score order.
/// </para>
/// <para>
/// Why typical rather than uncertain records: with a budget that is small next to the pool, a label teaches the model
/// most about the region its record stands for, so the best batch covers where the traffic is, with central members
/// of each region; the most uncertain records are edge cases and outliers, and a model under a shift is also
/// confidently wrong on much of its traffic, which no uncertainty signal finds (Hacohen et al. 2022: typicality wins at
/// small budgets, uncertainty only once the labeled set is large). Greedy k-medians gives both parts at once
/// without a cluster count or a kernel width: the first pick is the medoid of the candidates, each next one the record
/// that most lowers the summed distance of all candidates to their nearest pick, so a region gets picks in proportion
/// to its mass and each pick is its region's most typical member. The order is prefix-stable: its first k entries are
/// the batch for a budget of k labels, which paging (ranked deeper than the page) needs.
/// </para>
/// <para>
/// Coverage is measured relative to what the model already knows (facility location with existing facilities): the
/// training rows count as picks made before the first, so each candidate starts at its distance to the nearest
/// training row (<see cref="EmbeddingMeasurement.NearestTrainingDistance"/>, from its training neighbours, measured
/// when it was scored) instead of unreached. A region the training data already covers is then worth little, and the
/// picks go to the production traffic the training data covers least, the shifted inputs a model is most often wrong
/// on, while each stays a typical member of its region. A record scored before that distance existed starts unreached.
/// </para>
/// <para>
/// Each candidate's distance counts <c>1 + u x uncertainty</c> times (<see cref="Uncertainty"/>, u =
/// <see cref="UncertaintyWeight"/>), which leans the picks toward regions the model is unsure of as far as u says.
/// Near-duplicates of a pick (unit embeddings within <see cref="RecommendationOptions.NearDuplicateThreshold"/>) are
/// collapsed into it. Candidates the greedy leaves (none lowers any distance further) follow in score order.
/// </para>
/// <para>
/// At most <see cref="MaxCandidates"/> candidates take part, and the distances summed are those of at most
/// <see cref="MaxClients"/> of them (each a sample chosen by a hash of the id), which bounds one ranking at about
/// <c>MaxCandidates x MaxClients x dimension</c> operations for the first pick and <c>MaxClients x dimension</c> for
/// each gain recomputed after it.
/// </para>
/// </remarks>
internal static class LabelingSelector
{
    /// <summary>
    /// Most candidates the picks are drawn from (a sample chosen by a hash of the id): 8,192. This list is ranked inside
    /// a request, and the lazy greedy recomputes many gains per pick on a large, even pool: with 20,000 candidates and
    /// 4,096 clients the first 200 picks of a 100,000-record set took 15.7 s on 2 cores, with these caps 3.3 s; at
    /// 4,096 / 1,024 (1.4 s) the label efficiency measured by the <c>active-learning</c> benchmark fell below random.
    /// </summary>
    public const int MaxCandidates = 8_192;

    /// <summary>Most candidates whose distances the picks are chosen to lower (a sample chosen by a hash of the id): 2,048.</summary>
    public const int MaxClients = 2_048;

    /// <summary>Extra weight <c>u</c> of a candidate's distance per unit of <see cref="Uncertainty"/>: 0.</summary>
    public const double UncertaintyWeight = 0;

    /// <summary>Returns up to <paramref name="count"/> recommendations in pick order.</summary>
    /// <param name="records">Scored production records.</param>
    /// <param name="scores">Their labeling scores (<see cref="SignalCombiner.Score"/>).</param>
    /// <param name="count">How many to return.</param>
    /// <param name="options">The near-duplicate threshold.</param>
    /// <param name="uncertaintyWeight">Extra weight of an uncertain record's distance (<see cref="UncertaintyWeight"/>).</param>
    /// <param name="coverTraining">
    /// Whether the training rows count as picks already made (each candidate starts at its
    /// <see cref="EmbeddingMeasurement.NearestTrainingDistance"/>); true by default, false for plain k-medians.
    /// </param>
    /// <param name="candidateRule">
    /// Which records may be picked; by default those whose stronger distance signal is within
    /// <see cref="SignalCombiner.LabelingDistanceAllowance"/> (the benchmark compares other rules through it).
    /// </param>
    /// <param name="variant">A variant the benchmark compares (<see cref="LabelingVariant"/>); null for the served list.</param>
    public static IReadOnlyList<Recommendation> Select(
        IReadOnlyList<ScoredRecord> records, double[] scores, int count, RecommendationOptions options, double uncertaintyWeight = UncertaintyWeight, bool coverTraining = true,
        Func<ScoredRecord, bool>? candidateRule = null, LabelingVariant? variant = null)
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

        var rule = candidateRule ?? (r => SignalCombiner.LabelingDistanceExcess(r.Signals) <= 0);
        if (variant is { Dismissed: { Length: > 0 } dismissed, DismissedAsCovered: false })
        {
            var inner = rule;
            rule = r => inner(r) && !NearerDismissed(r, dismissed);
        }

        var candidates = Candidates(records, rule);
        var picks = Representatives(records, candidates, count, options.NearDuplicateThreshold, uncertaintyWeight, coverTraining, scoreRank, variant ?? LabelingVariant.Default);

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
    /// How unsure the model is of <paramref name="record"/>, 0 to 1: <c>(1 - p_max) C / (C - 1)</c> from the logged
    /// probabilities (rescaled to sum to 1; 1 when they are uniform), else the share of training neighbours that
    /// disagree with the predicted class, else 0.
    /// </summary>
    public static double Uncertainty(ScoredRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Probabilities is { Length: > 1 } p)
        {
            double total = 0, top = 0;
            foreach (var v in p)
            {
                total += v;
                top = Math.Max(top, v);
            }

            if (total > 0)
            {
                return Math.Clamp((1 - (top / total)) * p.Length / (p.Length - 1), 0, 1);
            }
        }

        return Math.Clamp(record.Signal(SignalKind.Boundary)?.Value ?? 0, 0, 1);
    }

    /// <summary>Whether a dismissed record is nearer to <paramref name="record"/> than its nearest training row.</summary>
    private static bool NearerDismissed(ScoredRecord record, float[] dismissed)
    {
        var unit = record.UnitEmbedding.Span;
        var d = unit.Length;
        if (d == 0 || dismissed.Length % d != 0)
        {
            return false;
        }

        var reach = record.Measurement.NearestTrainingDistance ?? GreedyMedians.Unreached;
        for (var o = 0; o < dismissed.Length; o += d)
        {
            if (TensorPrimitives.Distance(unit, dismissed.AsSpan(o, d)) < reach)
            {
                return true;
            }
        }

        return false;
    }

    private static Recommendation Entry(ScoredRecord record, double score, int rank, string[] duplicates) =>
        new(record.Id, score, record.Signals, ReasonWriter.Write(record, RecommendationStrategy.Labeling), duplicates) { ScoreRank = rank };

    private static int[] Candidates(IReadOnlyList<ScoredRecord> records, Func<ScoredRecord, bool> isCandidate)
    {
        var eligible = Enumerable.Range(0, records.Count)
            .Where(i => isCandidate(records[i]))
            .ToArray();
        if (eligible.Length <= MaxCandidates)
        {
            return eligible;
        }

        return [.. eligible.OrderBy(i => IdHash(records[i].Id)).ThenBy(i => records[i].Id, StringComparer.Ordinal).Take(MaxCandidates)];
    }

    private static List<(int Index, List<int> Duplicates)> Representatives(
        IReadOnlyList<ScoredRecord> records, int[] candidates, int count, double duplicateThreshold, double uncertaintyWeight, bool coverTraining, int[] scoreRank,
        LabelingVariant variant)
    {
        if (candidates.Length == 0 || count <= 0)
        {
            return [];
        }

        // One width per set; a record of another width (none in practice) is left to follow in score order.
        var dimension = candidates.GroupBy(i => records[i].UnitEmbedding.Length).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
        var rows = candidates.Where(i => records[i].UnitEmbedding.Length == dimension).ToArray();
        if (dimension == 0)
        {
            return [];
        }

        var pickable = rows.Length;
        if (variant.CoverRule is { } coverRule)
        {
            var isCandidate = new HashSet<int>(candidates);
            rows = [.. rows, .. Enumerable.Range(0, records.Count)
                .Where(i => !isCandidate.Contains(i) && records[i].UnitEmbedding.Length == dimension && coverRule(records[i]))
                .OrderBy(i => IdHash(records[i].Id)).ThenBy(i => records[i].Id, StringComparer.Ordinal).Take(MaxClients)];
        }

        var units = new float[rows.Length * dimension];
        for (var r = 0; r < rows.Length; r++)
        {
            records[rows[r]].UnitEmbedding.Span.CopyTo(units.AsSpan(r * dimension, dimension));
        }

        var clients = rows.Length <= MaxClients
            ? Enumerable.Range(0, rows.Length).ToArray()
            : [.. Enumerable.Range(0, rows.Length).OrderBy(r => IdHash(records[rows[r]].Id)).ThenBy(r => records[rows[r]].Id, StringComparer.Ordinal).Take(MaxClients)];
        var weights = clients.Select(c => 1 + (uncertaintyWeight * Uncertainty(records[rows[c]]))).ToArray();
        var tieRank = rows.Select(i => scoreRank[i]).ToArray();
        var covered = coverTraining ? clients.Select(c => records[rows[c]].Measurement.NearestTrainingDistance ?? GreedyMedians.Unreached).ToArray() : null;
        if (covered is { Length: > 0 } && variant.ReachQuantile is { } quantile)
        {
            var sorted = covered.Order().ToArray();
            var cap = sorted[(int)Math.Clamp(Math.Floor(quantile * (sorted.Length - 1)), 0, sorted.Length - 1)];
            for (var c = 0; c < covered.Length; c++)
            {
                covered[c] = Math.Min(covered[c], cap);
            }
        }

        if (covered is not null && variant.DismissedAsCovered && variant.Dismissed is { Length: > 0 } dismissed && dismissed.Length % dimension == 0)
        {
            for (var c = 0; c < clients.Length; c++)
            {
                var unit = units.AsSpan(clients[c] * dimension, dimension);
                for (var o = 0; o < dismissed.Length; o += dimension)
                {
                    covered[c] = Math.Min(covered[c], TensorPrimitives.Distance(unit, dismissed.AsSpan(o, dimension)));
                }
            }
        }

        var rowWeights = variant.Typicality ? NeighborhoodTypicality.Of(units, dimension, clients) : null;
        if (pickable < rows.Length)
        {
            // Records left for review count as clients only: a gain of theirs is worth nothing.
            rowWeights ??= [.. Enumerable.Repeat(1.0, rows.Length)];
            Array.Fill(rowWeights, 0, pickable, rows.Length - pickable);
        }

        int[]? draws = variant.DrawEvery <= 0 ? null
            : variant.DrawUncertain ? [.. Enumerable.Range(0, pickable).OrderByDescending(r => Uncertainty(records[rows[r]])).ThenBy(r => tieRank[r])]
            : [.. Enumerable.Range(0, pickable).OrderBy(r => IdHash(records[rows[r]].Id)).ThenBy(r => records[rows[r]].Id, StringComparer.Ordinal)];
        return [.. GreedyMedians.Order(units, dimension, clients, weights, tieRank, count, duplicateThreshold, covered, rowWeights, draws, variant.DrawEvery)
            .Select(p => (rows[p.Row], p.Duplicates.Select(d => rows[d]).ToList()))];
    }

    /// <summary>
    /// The order in which records enter a capped sample (candidates, clients): a hash of the id that is stable across
    /// processes (string.GetHashCode is randomised) and spread evenly, so that a sample of the lowest hashes is a fair
    /// sample of any id scheme.
    /// </summary>
    /// <remarks>
    /// FNV-1a over the UTF-16 code units, then the 64-bit finalizer of MurmurHash3. FNV-1a alone orders sequential ids
    /// in blocks (its last step is one multiplication): of the ids <c>rec-000000</c> to <c>rec-019999</c>, the 2,048
    /// lowest hashes held none of <c>rec-006000</c> to <c>rec-007999</c>, and in the <c>active-learning</c> benchmark
    /// none of the pool indices 3,000-3,999 and 5,000-6,599. The finalizer mixes every bit into every other.
    /// </remarks>
    internal static ulong IdHash(string id)
    {
        var hash = 14_695_981_039_346_656_037UL;
        foreach (var ch in id)
        {
            hash = (hash ^ ch) * 1_099_511_628_211UL;
        }

        hash ^= hash >> 33;
        hash *= 0xFF51_AFD7_ED55_8CCDUL;
        hash ^= hash >> 33;
        hash *= 0xC4CE_B9FE_1A85_EC53UL;
        hash ^= hash >> 33;
        return hash;
    }
}
