using System.Globalization;
using Chroma.Server.Background;
using Chroma.Server.Indexing;
using Chroma.Server.Recommendations;
using EngineStrategy = Chroma.Server.Recommendations.RecommendationStrategy;

namespace Chroma.Benchmarks.Ood;

/// <summary>
/// Every score the evaluation compares, per production record (larger = more worth a look): the engine's signals and
/// strategies (the server's own classes: <see cref="RecommendationModel"/>, <see cref="RecommendationScorer"/>,
/// <see cref="SignalCombiner"/>, with the server's neighbour search), the anchors (max softmax, energy, the original
/// raw-inverse Mahalanobis) and published detectors computed here for comparison.
/// </summary>
internal static class DetectorColumns
{
    public static readonly EngineStrategy[] Strategies = [.. Enum.GetValues<EngineStrategy>()];

    /// <summary>The column of balanced with the production-shift lead against training taken from every level (no floor; not adopted).</summary>
    public const string NoFloorBalanced = "candidate: balanced, shift lead 1/2 from every level (no floor)";

    /// <summary>The column of balanced with the production-shift lead against training from a floor of 2 (the rule before the stream's bulk).</summary>
    public const string TrainingLeadBalanced = "before: balanced, shift lead against training from 2";

    /// <summary>The column of balanced with a constant lead of 1/2 against the stream's bulk from 1 (the rule before balanced's lead ramped).</summary>
    public const string ConstantLeadBalanced = "before: balanced, shift lead 1/2 against the bulk from 1";

    /// <summary>The start of the columns of a strategy's weighted mean alone (no production-shift lead), followed by the strategy.</summary>
    public const string MeanAlone = "weighted mean alone (no shift lead): ";

    public static List<(string Name, double[] Scores)> Compute(MlpOutputs training, int[] trainingLabels, MlpOutputs production, BackgroundWorkLimiter limiter) =>
        Compute(training, trainingLabels, production, limiter, out _);

    public static List<(string Name, double[] Scores)> Compute(MlpOutputs training, int[] trainingLabels, MlpOutputs production, BackgroundWorkLimiter limiter, out ScoredRecord[] scored) =>
        Compute(training, trainingLabels, production, limiter, null, out scored);

    /// <summary>
    /// As above; <paramref name="dump"/> (dump, part name) also receives the engine's per-record surprises. With
    /// <paramref name="reference"/> (outputs of inputs from the training distribution the model never saw), the engine
    /// compares production with them, as the server does with a set's <c>reference</c> dataset, and the columns
    /// "against training: ..." give the engine without them on the same model and production.
    /// </summary>
    public static List<(string Name, double[] Scores)> Compute(
        MlpOutputs training, int[] trainingLabels, MlpOutputs production, BackgroundWorkLimiter limiter, (OutputDump Dump, string Name)? dump, out ScoredRecord[] scored, MlpOutputs? reference = null)
    {
        var d = training.Dimension;
        var labels = trainingLabels.Select(l => l.ToString(CultureInfo.InvariantCulture)).ToArray();
        var data = new TrainingData(training.Embeddings, d, labels) { Probabilities = training.Probabilities };
        var model = RecommendationModel.Fit(data, "ood", HnswTrainingNeighborSearch.CreateFactory(5_000, limiter), limiter: limiter);
        var ids = Enumerable.Range(0, production.Count).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();

        // The production-shift classifier learns from production, as the server's does: a uniform sample of it.
        var sampled = Enumerable.Range(0, production.Count).ToArray();
        new Random(17).Shuffle(sampled);
        var sample = sampled.Take(ProductionShift.MaxSampleRows).Order()
            .Select(i => new ShiftSample(production.Embeddings.AsMemory(i * d, d), production.Probabilities[i], ProductionShiftClassifier.FoldOf(ids[i]), production.Predictions[i].ToString(CultureInfo.InvariantCulture)))
            .ToArray();
        var trainingOnly = model;
        ShiftSample[]? referenceSample = reference is null ? null
            : [.. Enumerable.Range(0, reference.Count).Select(i => new ShiftSample(reference.Embeddings.AsMemory(i * d, d), reference.Probabilities[i], ProductionShiftClassifier.FoldOf("r" + i.ToString(CultureInfo.InvariantCulture))))];
        model = model.WithProductionShift(data, sample, 0, production.Count, referenceSample, limiter);
        if (model.ProductionShift is { } shift)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  production-shift classifier: {shift.Classifier.TrainingRows} {(shift.AgainstReference ? "reference" : "training")} vs {shift.Classifier.ProductionRows} production rows, out-of-fold AUC {shift.Classifier.Auc:0.000} (p = {shift.Classifier.AucPValue:0.###e+0}), joins: {shift.Joins}, null shift {shift.NullShift:0.000}, boundary factor {shift.BoundaryFactor:0.000} (neighbours' held-out accuracy {model.NeighborAccuracy:0.000}){(shift.ReferenceCheck is { } check ? $"; training vs {shift.ReferenceRows} reference rows: AUC {check.Auc:0.000} (p = {check.AucPValue:0.###e+0})" : "")}"));
        }

        var batch = new ProductionBatch(
            ids,
            production.Embeddings,
            d,
            [.. production.Predictions.Select(p => (string?)p.ToString(CultureInfo.InvariantCulture))],
            production.Probabilities);
        var records = RecommendationScorer.Score(model, batch, limiter);
        scored = records;
        List<(string, double[])> againstTraining = [];
        if (reference is not null)
        {
            var trainingShift = trainingOnly.WithProductionShift(data, sample, 0, production.Count, limiter: limiter);
            var trainingRecords = RecommendationScorer.Score(trainingShift, batch, limiter);
            againstTraining.Add(("against training: signal production_shift", [.. trainingRecords.Select(r => r.Signal(SignalKind.ProductionShift)?.Value ?? double.NaN)]));
            foreach (var strategy in new[] { EngineStrategy.Balanced, EngineStrategy.OutOfDistribution, EngineStrategy.Uncertainty })
            {
                againstTraining.Add(("against training: " + strategy, [.. trainingRecords.Select(r => SignalCombiner.Score(r, strategy))]));
            }

            // Candidate: every signal calibrated on the reference rows (scored like production, which they are to the
            // model and its neighbour search) instead of the held-out training rows; p-values recomputed from the
            // surprises, a monotone map of each signal's value.
            var referenceBatch = new ProductionBatch(
                [.. Enumerable.Range(0, reference.Count).Select(i => "r" + i.ToString(CultureInfo.InvariantCulture))],
                reference.Embeddings,
                d,
                [.. reference.Predictions.Select(p => (string?)p.ToString(CultureInfo.InvariantCulture))],
                reference.Probabilities);
            var referenceRecords = RecommendationScorer.Score(model, referenceBatch, limiter);
            var recalibrators = Enum.GetValues<SignalKind>().ToDictionary(
                k => k,
                k => referenceRecords.Select(r => r.Signal(k)?.Surprise).Where(v => v is not null).Select(v => v!.Value).ToArray() is { Length: > 0 } values ? new EmpiricalCalibrator(values) : null);
            SignalScore[] Recalibrated(ScoredRecord r) =>
                [.. r.Signals.Select(sig => recalibrators[sig.Kind] is { } c ? c.Calibrate(sig.Kind, sig.Surprise) : sig)];
            foreach (var strategy in new[] { EngineStrategy.Balanced, EngineStrategy.OutOfDistribution, EngineStrategy.Uncertainty })
            {
                againstTraining.Add(("every signal calibrated on the reference: " + strategy, [.. records.Select(r => SignalCombiner.Score(Recalibrated(r), strategy))]));
            }

            // Candidate: a combination learnt from the stream: the production-shift network fitted on each record's nine
            // surprises (missing = 0), reference rows against production, each record scored by its own fold's model.
            var kinds = Enum.GetValues<SignalKind>();
            float[] Surprises(ScoredRecord r) => [.. kinds.Select(k => (float)Math.Min(r.Signal(k)?.Surprise ?? 0, 300))];
            ShiftSample[] SignalSamples(IReadOnlyList<ScoredRecord> rs) =>
                [.. rs.Select(r => new ShiftSample(Surprises(r), null, ProductionShiftClassifier.FoldOf(r.Id)))];
            var productionSignals = SignalSamples(records);
            var stacked = ProductionShiftClassifier.Fit(SignalSamples(referenceRecords), productionSignals, kinds.Length, 1, limiter);
            againstTraining.Add(("stacked: network on the signals, reference vs production", [.. productionSignals.Select(x => stacked.Score(x.Embedding.Span, null, x.Fold))]));
        }

        dump?.Dump.WriteSignals(dump.Value.Name, records, model.FittedRows.ToArray());

        var columns = new List<(string, double[])>();
        foreach (var kind in Enum.GetValues<SignalKind>())
        {
            columns.Add(("signal: " + kind.ToWireName(), [.. records.Select(r => r.Signal(kind)?.Value ?? double.NaN)]));
        }

        foreach (var strategy in Strategies)
        {
            columns.Add(("strategy: " + strategy, [.. records.Select(r => SignalCombiner.Score(r, strategy))]));
        }

        // The strategies as they were before the production-shift lead (December 3): the weighted mean alone.
        foreach (var strategy in new[] { EngineStrategy.Balanced, EngineStrategy.OutOfDistribution })
        {
            columns.Add((MeanAlone + strategy, [.. records.Select(r => SignalCombiner.WeightedMean(r.Signals, strategy))]));
        }

        // Balanced with the lead taken from every level (floor 0), measured and not adopted (benchmarks README, "The
        // production-shift lead"): the classifier's noise on ordinary records then reorders the errors.
        columns.Add((NoFloorBalanced, [.. records.Select(r => SignalCombiner.WithShiftLead(
            SignalCombiner.WeightedMean(r.Signals, EngineStrategy.Balanced),
            r.Signal(SignalKind.ProductionShift)?.Surprise ?? 0,
            SignalCombiner.TrainingShiftLead(EngineStrategy.Balanced),
            floor: 0))]));

        // Balanced with a constant lead of 1/2 against the stream's bulk (the rule before the ramp, December 3).
        columns.Add((ConstantLeadBalanced, [.. records.Select(r => SignalCombiner.WithShiftLead(
            SignalCombiner.WeightedMean(r.Signals, EngineStrategy.Balanced),
            r.ShiftLeadSurprise ?? 0,
            SignalCombiner.TrainingShiftLead(EngineStrategy.Balanced),
            SignalCombiner.ShiftLeadFloor))]));

        // Balanced with the lead as it was first adopted (December 3, before the stream's bulk): the signal's own
        // surprise against training, from a floor of 2.
        columns.Add((TrainingLeadBalanced, [.. records.Select(r => SignalCombiner.WithShiftLead(
            SignalCombiner.WeightedMean(r.Signals, EngineStrategy.Balanced),
            r.Signal(SignalKind.ProductionShift)?.Surprise ?? 0,
            SignalCombiner.TrainingShiftLead(EngineStrategy.Balanced),
            floor: 2))]));

        // The strategies as they were before the production-shift signal (December 2, scheme m3).
        foreach (var strategy in new[] { EngineStrategy.Balanced, EngineStrategy.OutOfDistribution })
        {
            columns.Add(("without production_shift: " + strategy, [.. records.Select(r => SignalCombiner.Score([.. r.Signals.Where(s => s.Kind != SignalKind.ProductionShift)], strategy))]));
        }

        columns.AddRange(againstTraining);

        columns.Add(("anchor: max softmax", [.. production.Probabilities.Select(p => 1.0 - p.Max())]));
        columns.Add(("anchor: energy (logits)", [.. Enumerable.Range(0, production.Count).Select(production.Energy)]));
        var raw = new RawInverseMahalanobis([.. Enumerable.Range(0, training.Count).Select(training.Embedding)], labels);
        columns.Add(("anchor: raw-inverse Mahalanobis", [.. Enumerable.Range(0, production.Count).Select(i => raw.Score(production.Embedding(i)))]));

        // Published detectors for comparison, fitted on the engine's fitted rows and calibrated on its held-out rows.
        var fitted = model.FittedRows.ToArray();
        var heldOut = Enumerable.Range(0, training.Count).Except(fitted).ToArray();
        var background = MahalanobisScorer.Fit(new TrainingData(training.Embeddings, d, [.. labels.Select(_ => "all")]), fitted, limiter);
        double Relative(ReadOnlySpan<float> row)
        {
            var (classDistance, _) = model.Mahalanobis.Score(row);
            var (backgroundDistance, _) = background.Score(row);
            return (classDistance * classDistance) - (backgroundDistance * backgroundDistance);
        }

        var relative = Enumerable.Range(0, production.Count).Select(i => Relative(production.Embeddings.AsSpan(i * d, d))).ToArray();
        var relativeCalibrator = new EmpiricalCalibrator(heldOut.Select(i => Relative(training.Embeddings.AsSpan(i * d, d))));
        columns.Add(("candidate: relative Mahalanobis", relative));

        int[] ks = [1, 5, 10, 20, 50];
        var productionKth = KthDistances(model, production.Embeddings, d, ks, limiter);
        var heldOutRows = new float[heldOut.Length * d];
        for (var i = 0; i < heldOut.Length; i++)
        {
            training.Embeddings.AsSpan(heldOut[i] * d, d).CopyTo(heldOutRows.AsSpan(i * d));
        }

        var heldOutKth = KthDistances(model, heldOutRows, d, ks, limiter);
        for (var j = 0; j < ks.Length; j++)
        {
            columns.Add(($"candidate: kNN k-th distance, k = {ks[j]}", [.. productionKth.Select(r => (double)r[j])]));
        }

        var kthCalibrator = new EmpiricalCalibrator(heldOutKth.Select(r => (double)r[3]));
        var energyCalibrator = new EmpiricalCalibrator(heldOut.Select(training.Energy));

        // Combinations of calibrated p-values (surprise = -log10 p).
        double S(SignalScore? s) => s?.Surprise ?? 0;
        var maha = records.Select(r => S(r.Signal(SignalKind.Mahalanobis))).ToArray();
        var knn = records.Select(r => S(r.Signal(SignalKind.KnnDistance))).ToArray();
        var boundary = records.Select(r => S(r.Signal(SignalKind.Boundary))).ToArray();
        var probability = records.Select(r => (S(r.Signal(SignalKind.Entropy)) + S(r.Signal(SignalKind.Margin)) + S(r.Signal(SignalKind.LeastConfidence))) / 3).ToArray();
        var rel = relative.Select(v => -Math.Log10(relativeCalibrator.PValue(v))).ToArray();
        var kth = productionKth.Select(r => -Math.Log10(kthCalibrator.PValue(r[3]))).ToArray();
        var energy = Enumerable.Range(0, production.Count).Select(i => -Math.Log10(energyCalibrator.PValue(production.Energy(i)))).ToArray();
        var n = production.Count;
        double[] Combine(Func<int, double> f) => [.. Enumerable.Range(0, n).Select(f)];
        columns.Add(("combo: max(maha, knn)", Combine(i => Math.Max(maha[i], knn[i]))));
        columns.Add(("combo: max(maha, knn, rel)", Combine(i => Math.Max(Math.Max(maha[i], knn[i]), rel[i]))));
        columns.Add(("combo: mean(maha, knn, rel)", Combine(i => (maha[i] + knn[i] + rel[i]) / 3)));
        columns.Add(("combo: max(maha, k20th, rel)", Combine(i => Math.Max(Math.Max(maha[i], kth[i]), rel[i]))));
        columns.Add(("combo: max(maha, knn, rel, energy)", Combine(i => Math.Max(Math.Max(maha[i], knn[i]), Math.Max(rel[i], energy[i])))));
        columns.Add(("combo: max(maha,knn,rel,bnd,prob)", Combine(i => Math.Max(Math.Max(maha[i], knn[i]), Math.Max(rel[i], Math.Max(boundary[i], probability[i]))))));
        columns.Add(("combo: sum(maha,knn,rel,bnd,prob)", Combine(i => maha[i] + knn[i] + rel[i] + boundary[i] + probability[i])));
        columns.Add(("combo: mean(maha,knn,rel,bnd,prob)", Combine(i => (maha[i] + knn[i] + rel[i] + boundary[i] + probability[i]) / 5)));
        columns.Add(("combo: bnd+prob", Combine(i => boundary[i] + probability[i])));

        // Two-sided tests (a typical-set test, Nalisnick et al. 2019): a shift that smooths the inputs can move them
        // closer to the class means than normal traffic, so "too typical" is evidence too.
        double TwoSided(EmpiricalCalibrator upper, EmpiricalCalibrator lower, double v) => Math.Max(-Math.Log10(upper.PValue(v)), -Math.Log10(lower.PValue(-v)));
        double MahaDistance(ReadOnlySpan<float> row) => model.Mahalanobis.Score(row).Distance;
        var heldOutMaha = heldOut.Select(i => MahaDistance(training.Embeddings.AsSpan(i * d, d))).ToArray();
        var productionMaha = Enumerable.Range(0, n).Select(i => MahaDistance(production.Embeddings.AsSpan(i * d, d))).ToArray();
        var mahaUpper = new EmpiricalCalibrator(heldOutMaha);
        var mahaLower = new EmpiricalCalibrator(heldOutMaha.Select(v => -v));
        var twoSidedMaha = productionMaha.Select(v => TwoSided(mahaUpper, mahaLower, v)).ToArray();
        columns.Add(("candidate: Mahalanobis, lower tail (too typical)", [.. productionMaha.Select(v => -v)]));
        columns.Add(("candidate: Mahalanobis, two-sided", twoSidedMaha));
        double Norm(ReadOnlySpan<float> row) => System.Numerics.Tensors.TensorPrimitives.Norm(row);
        var heldOutNorm = heldOut.Select(i => Norm(training.Embeddings.AsSpan(i * d, d))).ToArray();
        var productionNorm = Enumerable.Range(0, n).Select(i => Norm(production.Embeddings.AsSpan(i * d, d))).ToArray();
        var normUpper = new EmpiricalCalibrator(heldOutNorm);
        var normLower = new EmpiricalCalibrator(heldOutNorm.Select(v => -v));
        columns.Add(("candidate: feature norm, low", [.. productionNorm.Select(v => -v)]));
        columns.Add(("candidate: feature norm, two-sided", [.. productionNorm.Select(v => TwoSided(normUpper, normLower, v))]));
        columns.Add(("combo: mean(two-sided maha,knn,rel,bnd,prob)", Combine(i => (twoSidedMaha[i] + knn[i] + rel[i] + boundary[i] + probability[i]) / 5)));
        columns.Add(("combo: max(bnd, prob)", Combine(i => Math.Max(boundary[i], probability[i]))));

        // The balanced score before the feature norm (December 2): pooled Mahalanobis in, feature norm out.
        var norm = records.Select(r => S(r.Signal(SignalKind.FeatureNorm))).ToArray();
        columns.Add(("balanced before: mean(maha,knn,rel,bnd,prob)", Combine(i => (maha[i] + knn[i] + rel[i] + boundary[i] + probability[i]) / 5)));
        columns.Add(("combo: mean(maha,knn,rel,norm,bnd,prob)", Combine(i => (maha[i] + knn[i] + rel[i] + norm[i] + boundary[i] + probability[i]) / 6)));
        columns.Add(("combo: mean(knn,rel,2 norm,bnd,prob)", Combine(i => (knn[i] + rel[i] + (2 * norm[i]) + boundary[i] + probability[i]) / 6)));
        return columns;
    }

    private static float[][] KthDistances(RecommendationModel model, float[] rows, int d, int[] ks, BackgroundWorkLimiter limiter)
    {
        var count = rows.Length / d;
        var result = new float[count][];
        var k = ks.Max();
        limiter.For(0, count, 256, (start, end) =>
        {
            var unit = new float[d];
            for (var i = start; i < end; i++)
            {
                UnitVectors.Normalize(rows.AsSpan(i * d, d), unit);
                var neighbours = model.NeighborSearch.Search(unit, k);
                result[i] = [.. ks.Select(j => neighbours[Math.Min(j, neighbours.Count) - 1].Distance)];
            }
        });

        return result;
    }
}
