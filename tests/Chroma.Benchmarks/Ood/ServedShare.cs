using System.Globalization;
using System.Numerics.Tensors;
using Chroma.Server.Recommendations;

namespace Chroma.Benchmarks.Ood;

/// <summary>
/// Whether diversity dilutes the served list (issue 13 item 1): per shift, a pool of every normal record plus up to
/// <see cref="ShiftedPerPool"/> of that shift's records, ranked by the engine's <see cref="RecommendationRanker"/>
/// (balanced strategy, default options) with each <see cref="Diversity"/> mode; the shifted count in its top
/// <see cref="Top"/> is set against the shifted count in the plain score order's top <see cref="Top"/> (no
/// near-duplicate collapse, no spreading). Goal: served / plain >= 90% per shift and mode. Also written: for each
/// shift and mode that lost shifted records, which ones and why (<see cref="Explain"/>), and the worst share of any
/// shorter list (top k, k = 10..100).
/// </summary>
internal sealed class ServedShare
{
    public const int Top = 100;
    public const int ShiftedPerPool = 500;

    private static readonly Diversity[] Modes = [Diversity.Off, Diversity.Default, Diversity.Strong];
    private readonly List<string> _lines = [];
    private readonly List<string> _details = [];
    private readonly Dictionary<Diversity, (double Share, string Where)> _worstPrefix = Modes.ToDictionary(m => m, _ => (1.0, "none"));

    public double WorstKept { get; private set; } = double.PositiveInfinity;

    public double WorstKeptDefault { get; private set; } = double.PositiveInfinity;

    /// <summary>Ranks normal records [0, normalCount) plus shifted records [offset, offset + min(count, 500)) of <paramref name="scored"/>.</summary>
    public void Add(string shift, IReadOnlyList<ScoredRecord> scored, int normalCount, int offset, int count)
    {
        var shifted = Math.Min(count, ShiftedPerPool);
        var pool = scored.Take(normalCount).Concat(scored.Skip(offset).Take(shifted)).ToArray();
        bool IsShifted(string id) => int.Parse(id, CultureInfo.InvariantCulture) >= normalCount;
        var order = pool
            .Select(r => (r.Id, Score: SignalCombiner.Score(r, Chroma.Server.Recommendations.RecommendationStrategy.Balanced)))
            .OrderByDescending(p => p.Score).ThenBy(p => p.Id, StringComparer.Ordinal)
            .ToArray();
        var plain = order.Take(Top).Count(p => IsShifted(p.Id));
        var cells = new List<string>();
        foreach (var mode in Modes)
        {
            var served = RecommendationRanker.Rank(pool, Chroma.Server.Recommendations.RecommendationStrategy.Balanced, Top, diversity: mode);
            var kept = served.Count(r => IsShifted(r.Id));
            var share = plain == 0 ? 1 : kept / (double)plain;
            WorstKept = Math.Min(WorstKept, share);
            WorstKeptDefault = mode == Diversity.Default ? Math.Min(WorstKeptDefault, share) : WorstKeptDefault;
            cells.Add(string.Create(CultureInfo.InvariantCulture, $"{kept} ({share:P0}, deepest rank {served.Max(r => r.ScoreRank)})"));
            for (var k = 10; k <= Top; k++)
            {
                var plainK = order.Take(k).Count(p => IsShifted(p.Id));
                var servedK = served.Take(k).Count(r => IsShifted(r.Id));
                if (plainK >= 10 && servedK / (double)plainK < _worstPrefix[mode].Share)
                {
                    _worstPrefix[mode] = (servedK / (double)plainK, string.Create(CultureInfo.InvariantCulture, $"{shift}, top {k}: {servedK} of {plainK}"));
                }
            }

            if (mode != Diversity.Off && kept < plain)
            {
                _details.Add(string.Create(CultureInfo.InvariantCulture, $"{shift}, {mode}: {Explain(pool, order, served, IsShifted)}"));
            }
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

        foreach (var detail in _details)
        {
            output.WriteLine("  lost " + detail);
        }

        output.WriteLine("worst shorter list (top k, k = 10.." + Top.ToString(CultureInfo.InvariantCulture) + ", where the plain top k holds >= 10 shifted): "
            + string.Join("; ", Modes.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m} {_worstPrefix[m].Share:P0} ({_worstPrefix[m].Where})"))));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"goal served top {Top} (default diversity) keeps >= 90% of the plain order's shifted count on every shift: {(WorstKeptDefault >= 0.9 ? "met" : "NOT met")} (worst {WorstKeptDefault:P0}; worst of every mode, strong included, {WorstKept:P0})"));
    }

    /// <summary>
    /// Which shifted records of the plain top 100 the served list lacks and why (collapsed into which served entry at
    /// what distance, or displaced by spreading, with the largest cosine to an earlier pick), and what came in instead.
    /// </summary>
    private static string Explain(ScoredRecord[] pool, (string Id, double Score)[] order, IReadOnlyList<Recommendation> served, Func<string, bool> isShifted)
    {
        var byId = pool.ToDictionary(r => r.Id);
        var rank = order.Select((p, i) => (p.Id, i)).ToDictionary(p => p.Id, p => p.i + 1);
        var position = served.Select((r, i) => (r.Id, i)).ToDictionary(p => p.Id, p => p.i);
        var collapsedInto = served.SelectMany(r => r.DuplicateIds.Select(d => (d, r.Id))).ToDictionary(p => p.d, p => p.Id);
        float Cosine(string a, string b) => TensorPrimitives.Dot(byId[a].UnitEmbedding.Span, byId[b].UnitEmbedding.Span);
        var parts = new List<string>();
        foreach (var (id, _) in order.Take(Top).Where(p => isShifted(p.Id) && !position.ContainsKey(p.Id)))
        {
            if (collapsedInto.TryGetValue(id, out var into))
            {
                var distance = Math.Sqrt(Math.Max(0, 2 - (2 * Cosine(id, into))));
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"rank {rank[id]} collapsed into rank {rank[into]} ({(isShifted(into) ? "shifted" : "normal")}, distance {distance:0.000})"));
            }
            else
            {
                // How alike it is to what was served: the closest served entry, and the closest of each kind.
                var closest = served.Select(r => (r.Id, Cos: Cosine(id, r.Id))).MaxBy(p => p.Cos);
                var shiftedCos = served.Where(r => isShifted(r.Id)).Select(r => Cosine(id, r.Id)).DefaultIfEmpty(0).Max();
                var normalCos = served.Where(r => !isShifted(r.Id)).Select(r => Cosine(id, r.Id)).DefaultIfEmpty(0).Max();
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"rank {rank[id]} displaced (max cosine to a served entry {closest.Cos:0.000}, rank {rank[closest.Id]} {(isShifted(closest.Id) ? "shifted" : "normal")}; to shifted {shiftedCos:0.000}, to normal {normalCos:0.000})"));
            }
        }

        var incoming = served.Where(r => rank[r.Id] > Top).Select(r => string.Create(CultureInfo.InvariantCulture, $"{rank[r.Id]}{(isShifted(r.Id) ? "s" : "n")}@{position[r.Id] + 1}"));
        return string.Join("; ", parts) + " | in from beyond rank " + Top.ToString(CultureInfo.InvariantCulture) + " (plain rank, s/n, served position): " + string.Join(" ", incoming);
    }
}
