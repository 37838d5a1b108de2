using System.Globalization;
using Chroma.Server.Background;

namespace Chroma.Benchmarks.Ood;

/// <summary>
/// The production-shift signal learns from whatever production holds, so `ood --production-settings` checks it in
/// other mixes than the main table's (normal plus every shift at once): each shift alone with the normal digits
/// ("pairwise"), production 100% normal (only misclassified vs correct can be measured), and a small production of 200
/// rows (180 normal + 20 of one shift). Each line: AUROC of balanced with / without the production-shift signal, and as
/// the weighted mean alone (no production-shift lead); pairwise also misclassified vs correct among the normal digits.
/// </summary>
internal static class ProductionSettings
{
    public static void Write(MlpOutputs training, int[] trainingLabels, IReadOnlyList<MlpOutputs> parts, IReadOnlyList<string> shiftNames, bool[] normalMistakes, BackgroundWorkLimiter limiter, TextWriter output)
    {
        const string with = "strategy: Balanced";
        const string without = "without production_shift: Balanced";
        const string meanAlone = DetectorColumns.MeanAlone + nameof(Server.Recommendations.RecommendationStrategy.Balanced);
        const string noFloor = DetectorColumns.NoFloorBalanced;
        const string before = DetectorColumns.TrainingLeadBalanced;
        const string constant = DetectorColumns.ConstantLeadBalanced;
        var normal = parts[0];
        var alone = DetectorColumns.Compute(training, trainingLabels, normal, limiter);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"production 100% normal ({normal.Count}): misclassified vs correct, balanced {Auroc(alone, with, normalMistakes):0.000} (lead 1/2 against the bulk {Auroc(alone, constant, normalMistakes):0.000}; lead against training from 2 {Auroc(alone, before, normalMistakes):0.000}; mean alone {Auroc(alone, meanAlone, normalMistakes):0.000}; lead from every level {Auroc(alone, noFloor, normalMistakes):0.000}; without production_shift {Auroc(alone, without, normalMistakes):0.000})"));
        var few = normal.Take(180);
        for (var s = 0; s < shiftNames.Count; s++)
        {
            var shifted = parts[s + 1];
            bool[] truth = [.. Enumerable.Repeat(false, normal.Count), .. Enumerable.Repeat(true, shifted.Count)];
            var pairwise = DetectorColumns.Compute(training, trainingLabels, MlpOutputs.Concat([normal, shifted]), limiter);
            bool[] fewTruth = [.. Enumerable.Repeat(false, 180), .. Enumerable.Repeat(true, 20)];
            var small = DetectorColumns.Compute(training, trainingLabels, MlpOutputs.Concat([few, shifted.Take(20)]), limiter);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{shiftNames[s]}: pairwise balanced {Auroc(pairwise, with, truth):0.000} (lead 1/2 against the bulk {Auroc(pairwise, constant, truth):0.000}; lead against training from 2 {Auroc(pairwise, before, truth):0.000}; mean alone {Auroc(pairwise, meanAlone, truth):0.000}; lead from every level {Auroc(pairwise, noFloor, truth):0.000}; without {Auroc(pairwise, without, truth):0.000}), misclassified vs correct among its normal digits {Auroc(pairwise, with, normalMistakes, normal.Count):0.000} (lead 1/2 against the bulk {Auroc(pairwise, constant, normalMistakes, normal.Count):0.000}; lead against training from 2 {Auroc(pairwise, before, normalMistakes, normal.Count):0.000}; mean alone {Auroc(pairwise, meanAlone, normalMistakes, normal.Count):0.000}; lead from every level {Auroc(pairwise, noFloor, normalMistakes, normal.Count):0.000}); 180 normal + 20 shifted: {Auroc(small, with, fewTruth):0.000} (mean alone {Auroc(small, meanAlone, fewTruth):0.000}; without {Auroc(small, without, fewTruth):0.000})"));
        }
    }

    // Over the first `rows` records of the column (all of them when null): the normal digits lead every mix.
    private static double Auroc(List<(string Name, double[] Scores)> columns, string name, bool[] positive, int? rows = null) =>
        Server.Recommendations.Auroc.Compute(columns.Single(c => c.Name == name).Scores[..(rows ?? positive.Length)], positive);
}
