using System.Globalization;
using Chroma.Server.Recommendations;

namespace Chroma.Benchmarks.Ood;

/// <summary>
/// Whether diversity dilutes the served list (issue 13 item 1): per shift, a pool of every normal record plus up to
/// <see cref="ShiftedPerPool"/> of that shift's records, ranked by the engine's <see cref="RecommendationRanker"/>
/// (balanced strategy, default options) with each <see cref="Diversity"/> mode; the shifted count in its top
/// <see cref="Top"/> is set against the shifted count in the plain score order's top <see cref="Top"/> (no
/// near-duplicate collapse, no spreading). Goal: served / plain >= 90% per shift and mode.
/// </summary>
internal sealed class ServedShare
{
    public const int Top = 100;
    public const int ShiftedPerPool = 500;

    private static readonly Diversity[] Modes = [Diversity.Off, Diversity.Default, Diversity.Strong];
    private readonly List<string> _lines = [];

    public double WorstKept { get; private set; } = double.PositiveInfinity;

    public double WorstKeptDefault { get; private set; } = double.PositiveInfinity;

    /// <summary>Ranks normal records [0, normalCount) plus shifted records [offset, offset + min(count, 500)) of <paramref name="scored"/>.</summary>
    public void Add(string shift, IReadOnlyList<ScoredRecord> scored, int normalCount, int offset, int count)
    {
        var shifted = Math.Min(count, ShiftedPerPool);
        var pool = scored.Take(normalCount).Concat(scored.Skip(offset).Take(shifted)).ToArray();
        bool IsShifted(string id) => int.Parse(id, CultureInfo.InvariantCulture) >= normalCount;
        var plain = pool
            .Select(r => (r.Id, Score: SignalCombiner.Score(r.Signals, Chroma.Server.Recommendations.RecommendationStrategy.Balanced)))
            .OrderByDescending(p => p.Score).ThenBy(p => p.Id, StringComparer.Ordinal)
            .Take(Top).Count(p => IsShifted(p.Id));
        var cells = new List<string>();
        foreach (var mode in Modes)
        {
            var served = RecommendationRanker.Rank(pool, Chroma.Server.Recommendations.RecommendationStrategy.Balanced, Top, diversity: mode);
            var kept = served.Count(r => IsShifted(r.Id));
            var share = plain == 0 ? 1 : kept / (double)plain;
            WorstKept = Math.Min(WorstKept, share);
            WorstKeptDefault = mode == Diversity.Default ? Math.Min(WorstKeptDefault, share) : WorstKeptDefault;
            cells.Add(string.Create(CultureInfo.InvariantCulture, $"{kept} ({share:P0}, deepest rank {served.Max(r => r.ScoreRank)})"));
        }

        _lines.Add(string.Create(CultureInfo.InvariantCulture, $"| {shift} | {normalCount} + {shifted} | {plain} | {string.Join(" | ", cells)} |"));
    }

    public void Write(TextWriter output)
    {
        output.WriteLine($"| shift | pool (normal + shifted) | shifted in plain top {Top} | served, diversity off | served, default | served, strong |");
        output.WriteLine("|---|---|---|---|---|---|");
        foreach (var line in _lines)
        {
            output.WriteLine(line);
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"goal served top {Top} (default diversity) keeps >= 90% of the plain order's shifted count on every shift: {(WorstKeptDefault >= 0.9 ? "met" : "NOT met")} (worst {WorstKeptDefault:P0}; worst of every mode, strong included, {WorstKept:P0})"));
    }
}
