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
/// Out-of-distribution inputs are left for review: a record whose Mahalanobis or kNN distance signal is beyond the
/// <see cref="LabelingAllowance"/> of the records ranked (one in a thousand, <see cref="SignalCombiner.LabelingDistanceAllowance"/>,
/// beyond where the production stream as a whole lies) is not a candidate; such records follow every candidate, in
/// score order. The allowance is measured against the stream so that a shift of the whole stream (most of production
/// far from the training data by the first model's measure) still lets that traffic in, while a minority of foreign
/// inputs, which moves the stream's median little, stays out.
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
/// Near-duplicates of a pick (unit embeddings within <see cref="RecommendationOptions.NearDuplicateThreshold"/>) are
/// collapsed into it. Candidates the greedy leaves (none lowers any distance further) follow in score order.
/// </para>
/// <para>
/// At most <see cref="MaxCandidates"/> candidates take part, and the distances summed are those of at most
/// <see cref="MaxClients"/> of them (each a sample chosen by a hash of the id), which bounds one ranking at about
/// <c>MaxCandidates x MaxClients x dimension</c> operations for the first pick and <c>MaxClients x dimension</c> for
/// each gain recomputed after it.
/// </para>
/// <para>
/// Variants measured by the <c>active-learning</c> benchmark and not adopted (typicality-weighted gains, draws by id
/// hash or uncertainty, uncertainty weights, coverage of records left for review, dismissed records as exclusions or
/// as facilities, a capped reach, other fixed candidate rules) were removed from the code; their figures stay in
/// tests/Chroma.Benchmarks/README.md.
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

    /// <summary>Returns up to <paramref name="count"/> recommendations in pick order.</summary>
    /// <param name="records">Scored production records.</param>
    /// <param name="scores">Their labeling scores (<see cref="SignalCombiner.Score(ScoredRecord, RecommendationStrategy)"/>).</param>
    /// <param name="count">How many to return.</param>
    /// <param name="options">The near-duplicate threshold.</param>
    /// <param name="coverTraining">
    /// Whether the training rows count as picks already made (each candidate starts at its
    /// <see cref="EmbeddingMeasurement.NearestTrainingDistance"/>); true by default, false for plain k-medians.
    /// </param>
    public static IReadOnlyList<Recommendation> Select(
        IReadOnlyList<ScoredRecord> records, double[] scores, int count, RecommendationOptions options, bool coverTraining = true)
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

        var allowance = LabelingAllowance.Of(records);
        var candidates = Candidates(records, r => allowance.Excess(r.Signals) <= 0);
        var picks = Representatives(records, candidates, count, options.NearDuplicateThreshold, coverTraining, scoreRank);

        var result = new List<Recommendation>(Math.Min(count, n));
        var used = new bool[n];
        foreach (var (index, duplicates) in picks)
        {
            used[index] = true;
            foreach (var d in duplicates)
            {
                used[d] = true;
            }

            result.Add(Entry(
                records[index], scores[index], scoreRank[index], [.. duplicates.OrderBy(d => scoreRank[d]).Take(options.MaxDuplicateIdsPerEntry).Select(d => records[d].Id)], duplicates.Count));
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
                    result.Add(Entry(records[i], scores[i], scoreRank[i], [], 0));
                }
            }
        }

        return result;
    }

    private static Recommendation Entry(ScoredRecord record, double score, int rank, string[] duplicateIds, int duplicateCount) =>
        new(record.Id, score, record.Signals, ReasonWriter.Write(record, RecommendationStrategy.Labeling), duplicateIds) { ScoreRank = rank, DuplicateCount = duplicateCount };

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
        IReadOnlyList<ScoredRecord> records, int[] candidates, int count, double duplicateThreshold, bool coverTraining, int[] scoreRank)
    {
        if (candidates.Length == 0 || count <= 0)
        {
            return [];
        }

        // One width per set; a record of another width (none in practice) is left to follow in score order.
        var dimension = candidates.GroupBy(i => records[i].Dimension).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
        var rows = candidates.Where(i => records[i].Dimension == dimension).ToArray();
        if (dimension == 0)
        {
            return [];
        }

        var units = new float[rows.Length * dimension];
        for (var r = 0; r < rows.Length; r++)
        {
            records[rows[r]].CopyUnitTo(units.AsSpan(r * dimension, dimension));
        }

        var clients = rows.Length <= MaxClients
            ? Enumerable.Range(0, rows.Length).ToArray()
            : [.. Enumerable.Range(0, rows.Length).OrderBy(r => IdHash(records[rows[r]].Id)).ThenBy(r => records[rows[r]].Id, StringComparer.Ordinal).Take(MaxClients)];
        var weights = new double[clients.Length];
        Array.Fill(weights, 1.0);
        var tieRank = rows.Select(i => scoreRank[i]).ToArray();
        var covered = coverTraining ? clients.Select(c => records[rows[c]].Measurement.NearestTrainingDistance ?? GreedyMedians.Unreached).ToArray() : null;
        return [.. GreedyMedians.Order(units, dimension, clients, weights, tieRank, count, duplicateThreshold, covered)
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
