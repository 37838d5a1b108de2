using System.Globalization;
using Chroma.Server.Background;
using Chroma.Server.Indexing;
using Chroma.Server.Recommendations;
using EngineStrategy = Chroma.Server.Recommendations.RecommendationStrategy;

namespace Chroma.Benchmarks.ActiveLearning;

/// <summary>
/// The labeling loop in rounds (<c>active-learning --rounds</c>): the budgets are the cumulative labels after each round
/// (50, 100, 200, 400: rounds of 50, 50, 100 and 200). Every strategy picks its round with the model retrained on the
/// 1,000 digits and every digit labeled so far, from the pool records it has not yet picked; the letters it picked were
/// dismissed (out of scope), and the next model is the one whose accuracy is measured at that budget. Chroma's lists
/// are ranked on a recommendation model refit on the same training rows (labeled records promoted to training, as the
/// server's loop does) and on the pool records not yet reviewed (rankings exclude reviewed records).
/// </summary>
internal static class LabelingRounds
{
    /// <summary>What a strategy sees when it picks a round.</summary>
    /// <param name="Training">The current model's outputs on its training rows (the 1,000 digits, then the labeled picks).</param>
    /// <param name="TrainingLabels">Their labels.</param>
    /// <param name="Pool">The current model's outputs on the whole pool.</param>
    /// <param name="Picked">Pool records picked in earlier rounds (reviewed: labeled or dismissed).</param>
    /// <param name="Dismissed">Pool records picked in earlier rounds that were letters (dismissed as out of scope).</param>
    internal sealed record State(
        (float[] Embeddings, float[][] Probabilities, int[] Predictions) Training,
        int[] TrainingLabels,
        (float[] Embeddings, float[][] Probabilities, int[] Predictions) Pool,
        bool[] Picked,
        IReadOnlyList<int> Dismissed);

    private const int D = SmallMlp.EmbeddingWidth;

    /// <summary>The pool's last records are the letters (for the printed counts only; no strategy reads it).</summary>
    private const int Letters = 600;

    /// <summary>The strategies, each picking <c>count</c> unpicked pool records for one round.</summary>
    public static List<(string Name, Func<State, int, int[]> Pick)> Strategies(int poolCount, int seed, BackgroundWorkLimiter limiter)
    {
        var randomOrder = SelectionBaselines.Random(poolCount, poolCount, seed);
        return
        [
            ("random", (s, count) => [.. randomOrder.Where(i => !s.Picked[i]).Take(count)]),
            ("entropy", (s, count) => Top(SelectionBaselines.Entropy(s.Pool.Probabilities), s.Picked, count)),
            ("margin", (s, count) => Top(SelectionBaselines.Margin(s.Pool.Probabilities), s.Picked, count)),
            ("coreset (k-center)", (s, count) => KCenter(s, count, limiter)),
            ("chroma Labeling", (s, count) => Labeling(s, count, limiter)),
        ];
    }

    private static int[] Top(double[] scores, bool[] picked, int count) =>
        [.. Enumerable.Range(0, scores.Length).Where(i => !picked[i]).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(count)];

    private static int[] KCenter(State s, int count, BackgroundWorkLimiter limiter)
    {
        // The training rows and the records picked in earlier rounds are the centres already in place.
        var poolUnits = UnitVectors.NormalizeRows(s.Pool.Embeddings, D, limiter);
        var picked = Enumerable.Range(0, s.Picked.Length).Where(i => s.Picked[i]).ToArray();
        var centres = new float[s.Training.Embeddings.Length + (picked.Length * D)];
        UnitVectors.NormalizeRows(s.Training.Embeddings, D, limiter).CopyTo(centres, 0);
        for (var p = 0; p < picked.Length; p++)
        {
            poolUnits.AsSpan(picked[p] * D, D).CopyTo(centres.AsSpan(s.Training.Embeddings.Length + (p * D)));
        }

        return SelectionBaselines.KCenter(centres, poolUnits, D, count);
    }

    private static int[] Labeling(State s, int count, BackgroundWorkLimiter limiter)
    {
        var labels = s.TrainingLabels.Select(l => l.ToString(CultureInfo.InvariantCulture)).ToArray();
        var model = RecommendationModel.Fit(
            new TrainingData(s.Training.Embeddings, D, labels) { Probabilities = s.Training.Probabilities },
            "al-round",
            HnswTrainingNeighborSearch.CreateFactory(5_000, limiter),
            limiter: limiter);
        var open = Enumerable.Range(0, s.Picked.Length).Where(i => !s.Picked[i]).ToArray();
        var embeddings = new float[open.Length * D];
        for (var r = 0; r < open.Length; r++)
        {
            s.Pool.Embeddings.AsSpan(open[r] * D, D).CopyTo(embeddings.AsSpan(r * D, D));
        }

        var scored = RecommendationScorer.Score(
            model,
            new ProductionBatch(
                [.. open.Select(i => i.ToString(CultureInfo.InvariantCulture))],
                embeddings,
                D,
                [.. open.Select(i => (string?)s.Pool.Predictions[i].ToString(CultureInfo.InvariantCulture))],
                [.. open.Select(i => s.Pool.Probabilities[i])]),
            limiter);
        var allowance = LabelingAllowance.Of(scored);
        var within = open.Where((_, r) => allowance.Excess(scored[r].Signals) <= 0).ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    round of {count}: {open.Length} records not yet reviewed, {within.Length} within the allowance measured against them (Mahalanobis {allowance.Mahalanobis:0.00}, kNN {allowance.KnnDistance:0.00}) ({within.Count(i => i >= s.Picked.Length - Letters)} of them letters), {s.Dismissed.Count} dismissed"));
        var scores = scored.Select(r => SignalCombiner.Score(r, EngineStrategy.Labeling)).ToArray();
        return [.. LabelingSelector.Select(scored, scores, count, new RecommendationOptions())
            .Select(r => int.Parse(r.Id, CultureInfo.InvariantCulture))];
    }
}
