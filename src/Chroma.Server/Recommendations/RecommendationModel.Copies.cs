using Chroma.Server.Background;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Copies of a training record (<see cref="TrainingCopies"/>): the hold-out by copy group, the near copies left out of
/// the fit and of a held-out record's neighbours, and the production-shift folds by copy group (Recommendations README,
/// "Copies of a training record").
/// </summary>
internal sealed partial class RecommendationModel
{
    // Splits the training records by copy group (firstCopies: each row's first exact copy), stratified by the label of
    // a group's first row: a held-out group is measured once (its first row) and none of its rows is fitted. Without
    // copies every group is one row and the split is the per-record one it always was.
    private static (int[] Fit, int[] HeldOut) Split(IReadOnlyList<string> labels, int[] firstCopies, RecommendationOptions options)
    {
        var members = new Dictionary<int, List<int>>();
        for (var r = 0; r < firstCopies.Length; r++)
        {
            if (firstCopies[r] != r)
            {
                (members.TryGetValue(firstCopies[r], out var list) ? list : members[firstCopies[r]] = [firstCopies[r]]).Add(r);
            }
        }

        var groups = Enumerable.Range(0, labels.Count).Where(r => firstCopies[r] == r).ToArray();
        if (groups.Length < 2)
        {
            // One distinct vector: nothing to hold out whole; fall back to records.
            return Split(labels, [.. Enumerable.Range(0, labels.Count)], options);
        }

        IEnumerable<int> Members(int first) => members.TryGetValue(first, out var list) ? list : [first];

        // Stratified: every class gives the same share to the held-out slice but keeps at least one
        // fitted group, so a rare class is never missing from the class means or the index.
#pragma warning disable CA5394 // A seeded, reproducible shuffle is the point; nothing here is security-sensitive.
        var random = new Random(options.Seed);
        var fraction = Math.Min(options.HoldOutFraction, options.MaxHeldOut / (double)groups.Length);
        var heldOut = new List<int>();
        var fit = new List<int>();
        foreach (var byClass in groups.GroupBy(i => labels[i], StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var shuffled = byClass.ToArray();
            random.Shuffle(shuffled);
            var take = Math.Min((int)Math.Round(shuffled.Length * fraction), shuffled.Length - 1);
            heldOut.AddRange(shuffled[..take]);
            fit.AddRange(shuffled[take..]);
        }

        if (heldOut.Count == 0)
        {
            // Too few records per class to share: calibrate on one group of the largest class.
            var donor = fit.GroupBy(i => labels[i], StringComparer.Ordinal).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().First();
            fit.Remove(donor);
            heldOut.Add(donor);
        }
#pragma warning restore CA5394

        // Sorted so fitted rows keep the caller's order (neighbour indices stay easy to read in tests).
        var fitRows = fit.SelectMany(Members).ToArray();
        Array.Sort(fitRows);
        heldOut.Sort();
        return (fitRows, heldOut.ToArray());
    }

    // For each held-out row, the search indices to leave out of its neighbours: its own row, its exact copies and the
    // rows a chain of near copies links it to (TrainingCopies.NearCopies), ascending.
    private static int[][] HeldOutCopies(
        TrainingData training,
        int[] heldOutRows,
        int[] neighborRows,
        bool everyRow,
        ITrainingNeighborSearch search,
        float[] rows,
        int[] firstCopies,
        RecommendationOptions options,
        BackgroundWorkLimiter limiter,
        CancellationToken cancellationToken)
    {
        var held = new HashSet<int>(heldOutRows);
        var exact = new Dictionary<int, List<int>>();
        for (var r = 0; r < firstCopies.Length; r++)
        {
            if (held.Contains(firstCopies[r]) && SearchIndex(r) is var index && index >= 0)
            {
                (exact.TryGetValue(firstCopies[r], out var list) ? list : exact[firstCopies[r]] = []).Add(index);
            }
        }

        var d = training.Dimension;
        var searchSize = rows.Length / d;
        var own = new int[heldOutRows.Length][];
        limiter.For(
            0,
            heldOutRows.Length,
            RecommendationScorer.RecordsPerChunk,
            (start, end) =>
            {
                var unit = new float[d];
                for (var i = start; i < end; i++)
                {
                    var row = training.Row(heldOutRows[i]);
                    UnitVectors.Normalize(row, unit);
                    var query = training.Metric == NeighborMetric.Cosine ? unit : row;
                    var near = TrainingCopies.NearCopies(search, rows, query, unit, options.NeighborCount, options.NearDuplicateThreshold, training.Metric);
                    own[i] = [.. near.Concat(exact.GetValueOrDefault(heldOutRows[i]) ?? []).Distinct().Order()];
                    if (own[i].Length >= searchSize)
                    {
                        // Every searchable row is a copy: leave out only the record's own row, as without copies.
                        own[i] = SearchIndex(heldOutRows[i]) is var index && index >= 0 ? [index] : [];
                    }
                }
            },
            cancellationToken);
        return own;

        int SearchIndex(int row) => everyRow ? row : Math.Max(Array.BinarySearch(neighborRows, row), -1);
    }

    // The held-out records that measure distinct groups and the fitted rows without their copies. In a seeded order,
    // each candidate takes its copies (exact and near) out of the fit, until its class has given the hold-out share of
    // its rows; a candidate that is a copy of an earlier one is not measured again, and candidates left over return to
    // the fit (near copies count against the share as exact ones do, so the fit keeps its size). A class that would lose
    // every fitted row keeps its rows (its means need one). Without copies every candidate is kept.
    private static (int[] Fit, int[] HeldOut, int[][] Own) WithoutCopies(
        IReadOnlyList<string> labels, int[] fitRows, int[] heldOutRows, int[][] ownRows, int[] neighborRows, bool everyRow, int[] firstCopies, RecommendationOptions options)
    {
        var groupSize = new Dictionary<int, int>();
        var classRows = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var r = 0; r < firstCopies.Length; r++)
        {
            groupSize[firstCopies[r]] = groupSize.GetValueOrDefault(firstCopies[r]) + 1;
            classRows[labels[r]] = classRows.GetValueOrDefault(labels[r]) + 1;
        }

        var fraction = Math.Min(options.HoldOutFraction, options.MaxHeldOut / (double)groupSize.Count);
        var order = Enumerable.Range(0, heldOutRows.Length).ToArray();
#pragma warning disable CA5394 // A seeded, reproducible order is the point; nothing here is security-sensitive.
        new Random(options.Seed).Shuffle(order);
#pragma warning restore CA5394
        var claimed = new HashSet<int>();
        var given = new Dictionary<string, int>(StringComparer.Ordinal);
        var kept = new List<int>();
        foreach (var i in order)
        {
            var row = heldOutRows[i];
            var label = labels[row];
            if (claimed.Contains(firstCopies[row]) || (kept.Count > 0 && given.GetValueOrDefault(label) >= Math.Max(1, Math.Round(classRows[label] * fraction))))
            {
                continue;
            }

            kept.Add(i);
            foreach (var first in ownRows[i].Select(index => firstCopies[everyRow ? index : neighborRows[index]]).Append(firstCopies[row]))
            {
                if (claimed.Add(first))
                {
                    given[label] = given.GetValueOrDefault(label) + groupSize[first];
                }
            }
        }

        kept.Sort();
        var rows = Enumerable.Range(0, firstCopies.Length).Where(r => !claimed.Contains(firstCopies[r])).ToArray();
        var lost = fitRows.Select(r => labels[r]).Except(rows.Select(r => labels[r]), StringComparer.Ordinal).ToHashSet(StringComparer.Ordinal);
        var fit = lost.Count == 0 ? rows : [.. fitRows.Where(r => lost.Contains(labels[r]) || !claimed.Contains(firstCopies[r]))];
        return (fit, [.. kept.Select(i => heldOutRows[i])], [.. kept.Select(i => ownRows[i])]);
    }

    /// <summary>
    /// The production-shift folds of <paramref name="sampleRows"/> (training rows, ascending): copies share a fold
    /// (exact copies, and near copies the neighbour search finds among the sample, chained), so no fold's network is
    /// fitted on a copy of a row it scores out of fold (near copies only searched for when the fit's held-out records had
    /// some, <see cref="NearCopiesSeen"/>); a group's fold is its lowest row's
    /// <see cref="ProductionShiftClassifier.FoldOfTrainingRow"/> (a row without copies keeps its own).
    /// </summary>
    private int[] FoldsByCopies(TrainingData training, int[] sampleRows, BackgroundWorkLimiter limiter, CancellationToken cancellationToken)
    {
        var d = Dimension;
        var position = new Dictionary<int, int>(sampleRows.Length);
        for (var i = 0; i < sampleRows.Length; i++)
        {
            position[sampleRows[i]] = i;
        }

        var rows = _measurer.SearchRows ?? throw new InvalidOperationException("The model's neighbour search has no rows.");
        var everyRow = NeighborRows.Count == training.Count;
        var links = new int[sampleRows.Length][];
        limiter.For(
            0,
            sampleRows.Length,
            RecommendationScorer.RecordsPerChunk,
            (start, end) =>
            {
                var unit = new float[d];
                for (var i = start; i < end; i++)
                {
                    var row = training.Row(sampleRows[i]);
                    UnitVectors.Normalize(row, unit);
                    var query = Metric == NeighborMetric.Cosine ? unit : row;
                    links[i] = !NearCopiesSeen ? [] : TrainingCopies.NearCopies(NeighborSearch, rows, query, unit, Options.NeighborCount, Options.NearDuplicateThreshold, Metric);
                }
            },
            cancellationToken);

        var groups = new DisjointSets(sampleRows.Length);
        var byFirstCopy = new Dictionary<int, int>();
        for (var i = 0; i < sampleRows.Length; i++)
        {
            if (!byFirstCopy.TryAdd(_firstCopies[sampleRows[i]], i))
            {
                groups.Union(i, byFirstCopy[_firstCopies[sampleRows[i]]]);
            }

            foreach (var index in links[i])
            {
                if (position.TryGetValue(everyRow ? index : NeighborRows[index], out var other))
                {
                    groups.Union(i, other);
                }
            }
        }

        // The lowest sample position of each group is its lowest row (the sample is ascending).
        var lowest = new Dictionary<int, int>();
        var folds = new int[sampleRows.Length];
        for (var i = 0; i < sampleRows.Length; i++)
        {
            var root = groups.Find(i);
            folds[i] = ProductionShiftClassifier.FoldOfTrainingRow(sampleRows[lowest.TryAdd(root, i) ? i : lowest[root]]);
        }

        return folds;
    }
}
