using System.Numerics.Tensors;
using Chroma.Server.Background;
using MathNet.Numerics;

namespace Chroma.Server.Recommendations;

/// <summary>One row of a <see cref="ProductionShiftClassifier"/> sample: an embedding, its class probabilities (or null) and its fold.</summary>
/// <param name="Embedding">The raw embedding.</param>
/// <param name="Probabilities">The model's class probabilities, or null when none were logged.</param>
/// <param name="Fold">Its cross-validation fold, 0 to <see cref="ProductionShiftClassifier.Folds"/> - 1 (<see cref="ProductionShiftClassifier.FoldOf(string)"/>).</param>
/// <param name="PredictedClass">
/// The model's predicted class of a production row, or null (training rows, rows logged without one): the boundary
/// signal's factor is measured on the production rows that have one (<see cref="BoundaryReliability"/>).
/// </param>
internal readonly record struct ShiftSample(ReadOnlyMemory<float> Embedding, float[]? Probabilities, int Fold, string? PredictedClass = null);

/// <summary>
/// A domain classifier that tells production rows from training rows (a classifier two-sample test, Lopez-Paz and
/// Oquab 2017; Rabanser et al. 2019): per fold a network with one hidden layer (<see cref="ShiftNetwork"/>; the mean
/// logit of several, seeds apart, when fitted with more than <see cref="DefaultNetworksPerFold"/>) on standardised
/// features <c>[x / ||x||, log ||x||, log(p + 1e-6)]</c> (the class probabilities only when every row of the sample has
/// them). Its logit is the <see cref="SignalKind.ProductionShift"/> signal: how much more a record looks like
/// production than like training. (Scheme <c>m4</c> used L2-regularised logistic regression on the same features; the
/// hidden layer catches shifts that no single direction of the features separates; see the benchmarks README.)
/// </summary>
/// <remarks>
/// <para>
/// Cross-fitted: every row belongs to one of <see cref="Folds"/> folds by a stable hash of its id
/// (<see cref="FoldOf(string)"/>), and fold f's model is fitted on the sample without fold f. A record is always
/// scored by the model of its own fold, so a production row inside the sample is scored out-of-fold, and one outside it
/// (or a held-out training row, which no model saw) is scored the same way: every score comes from a model that never
/// saw the row. The out-of-fold scores of the sample give the test's own AUC and its one-sided p-value under "no
/// difference" (normal approximation of Mann-Whitney U: <c>z = (AUC - 1/2) / sqrt((n1 + n2 + 1) / (12 n1 n2))</c>).
/// </para>
/// <para>
/// Training (<see cref="ShiftNetwork.Fit"/>): log loss with class-balanced weights (the two samples' sizes do not
/// matter), Adam, seeded initialisation and shuffles: the same sample gives the same classifier. Cost for n sample rows
/// of p features: about <c>3 n p ShiftNetwork.HiddenUnits ShiftNetwork.Epochs</c> multiply-adds per network,
/// <see cref="Folds"/> times <see cref="DefaultNetworksPerFold"/> networks (run in parallel), linear in the sample,
/// which the caller bounds; scoring a record costs one forward pass per network of its fold.
/// </para>
/// </remarks>
internal sealed class ProductionShiftClassifier
{
    /// <summary>Cross-validation folds.</summary>
    public const int Folds = 5;

    /// <summary>
    /// Networks per fold by default: 1. With more, each has its own seed (start, shuffles and early-stopping rows) and
    /// a fold's logit is their mean, which removes most of what a single network's score owes to its seed. Three per
    /// fold were measured (benchmarks README, "Stronger domain classifiers"): balanced AUROC level or up by only
    /// 0.001-0.004 on the constructed shifts, for 3.5 times the fit's CPU, so the server fits one.
    /// </summary>
    public const int DefaultNetworksPerFold = 1;

    private const double ProbabilityFloor = 1e-6;

    private readonly float[] _mean;
    private readonly float[] _inverseScale;
    // Fold f's networks are _networks[(f * NetworksPerFold)..][..NetworksPerFold].
    private readonly ShiftNetwork[] _networks;

    private ProductionShiftClassifier(int dimension, int classCount, float[] mean, float[] inverseScale, ShiftNetwork[] networks)
    {
        NetworksPerFold = networks.Length / Folds;
        Dimension = dimension;
        ClassCount = classCount;
        _mean = mean;
        _inverseScale = inverseScale;
        _networks = networks;
    }

    /// <summary>Gets the networks whose mean logit scores a fold.</summary>
    public int NetworksPerFold { get; }

    /// <summary>Gets the embedding dimension.</summary>
    public int Dimension { get; }

    /// <summary>Gets how many class probabilities the features use (0: none; a record needs exactly this many to be scored).</summary>
    public int ClassCount { get; }

    /// <summary>Gets the number of features (<see cref="Dimension"/> + 1 + <see cref="ClassCount"/>).</summary>
    public int FeatureCount => Dimension + 1 + ClassCount;

    /// <summary>Gets the out-of-fold AUC of the sample (production above training); 0.5 when nothing tells them apart.</summary>
    public double Auc { get; private set; }

    /// <summary>Gets the one-sided p-value of <see cref="Auc"/> under "production is distributed like training".</summary>
    public double AucPValue { get; private set; }

    /// <summary>Gets the rows labelled 0 the classifier was fitted on: training rows, or reference rows (<see cref="ProductionShift.AgainstReference"/>).</summary>
    public int TrainingRows { get; private set; }

    /// <summary>Gets the production rows the classifier was fitted on.</summary>
    public int ProductionRows { get; private set; }

    /// <summary>
    /// Gets the out-of-fold logit of each production row of the sample, in sample order: what <see cref="Auc"/> was
    /// computed from, and where <see cref="ProductionShift.NullShift"/> reads the stream's bulk.
    /// </summary>
    public IReadOnlyList<double> ProductionOutOfFoldLogits { get; private set; } = [];

    /// <summary>The fold of a record by a stable hash (FNV-1a) of its id.</summary>
    public static int FoldOf(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        var hash = 2166136261u;
        foreach (var c in id)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % Folds);
    }

    /// <summary>The fold of training row <paramref name="row"/> (a multiplicative hash, so neighbouring rows spread).</summary>
    public static int FoldOfTrainingRow(int row) => (int)(((uint)row * 2654435761u >> 16) % Folds);

    /// <summary>
    /// Fits the classifier: <paramref name="training"/> rows labelled 0, <paramref name="production"/> rows 1.
    /// Needs rows of both kinds in at least two folds. <paramref name="networksPerFold"/>: networks averaged per fold
    /// (<see cref="DefaultNetworksPerFold"/> = 1, scheme <c>m5</c>; member 0 of each fold is that network).
    /// </summary>
    public static ProductionShiftClassifier Fit(
        IReadOnlyList<ShiftSample> training,
        IReadOnlyList<ShiftSample> production,
        int dimension,
        int seed,
        BackgroundWorkLimiter limiter,
        int networksPerFold = DefaultNetworksPerFold,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(production);
        ArgumentNullException.ThrowIfNull(limiter);
        ArgumentOutOfRangeException.ThrowIfLessThan(networksPerFold, 1);
        if (training.Count == 0 || production.Count == 0)
        {
            throw new ArgumentException($"the classifier needs training and production rows (got {training.Count} and {production.Count}).", nameof(production));
        }

        var classCount = SharedClassCount(training, production);
        var p = dimension + 1 + classCount;
        var n = training.Count + production.Count;
        var x = new float[(long)n * p];
        var y = new float[n];
        var folds = new int[n];
        for (var i = 0; i < n; i++)
        {
            var row = i < training.Count ? training[i] : production[i - training.Count];
            Features(dimension, classCount, row.Embedding.Span, row.Probabilities, x.AsSpan(i * p, p));
            y[i] = i < training.Count ? 0 : 1;
            folds[i] = row.Fold;
        }

        var (mean, inverseScale) = Standardize(x, n, p);
        var networks = new ShiftNetwork[Folds * networksPerFold];
        limiter.For(0, networks.Length, 1, (start, end) =>
        {
            for (var k = start; k < end; k++)
            {
                var fold = k / networksPerFold;
                var member = k % networksPerFold;

                // Member 0 keeps the seed a single network had (seed + fold), so the first member is scheme m5's network.
                networks[k] = ShiftNetwork.Fit(x, y, [.. Enumerable.Range(0, n).Where(i => folds[i] != fold)], p, seed + fold + (member * Folds), cancellationToken);
            }
        }, cancellationToken);

        var classifier = new ProductionShiftClassifier(dimension, classCount, mean, inverseScale, networks)
        {
            TrainingRows = training.Count,
            ProductionRows = production.Count,
        };

        var outOfFold = new double[n];
        for (var i = 0; i < n; i++)
        {
            outOfFold[i] = classifier.FoldLogit(x.AsSpan(i * p, p), folds[i]);
        }

        classifier.Auc = Auroc.Compute(outOfFold, [.. y.Select(v => v > 0)]);
        classifier.AucPValue = AucPValueOf(classifier.Auc, training.Count, production.Count);
        classifier.ProductionOutOfFoldLogits = outOfFold[training.Count..];
        return classifier;
    }

    /// <summary>
    /// The logit of "production" for one record, by the model of <paramref name="fold"/>; NaN when the record cannot be
    /// scored (the classifier uses class probabilities and the record has none, or another number of them).
    /// </summary>
    public double Score(ReadOnlySpan<float> embedding, float[]? probabilities, int fold)
    {
        if (embedding.Length != Dimension)
        {
            throw new ArgumentException($"embedding has {embedding.Length} values; the classifier expects {Dimension}.", nameof(embedding));
        }

        if (ClassCount > 0 && probabilities?.Length != ClassCount)
        {
            return double.NaN;
        }

        var p = FeatureCount;
        Span<float> features = p <= 2048 ? stackalloc float[p] : new float[p];
        Features(Dimension, ClassCount, embedding, probabilities, features);
        TensorPrimitives.Subtract(features, _mean, features);
        TensorPrimitives.Multiply(features, _inverseScale, features);
        return FoldLogit(features, fold);
    }

    // The mean logit of fold `fold`'s networks for one standardised feature row.
    private double FoldLogit(ReadOnlySpan<float> features, int fold)
    {
        double sum = 0;
        for (var member = 0; member < NetworksPerFold; member++)
        {
            sum += _networks[(fold * NetworksPerFold) + member].Logit(features);
        }

        return sum / NetworksPerFold;
    }

    /// <summary>One-sided p-value of an AUC of <paramref name="auc"/> between samples of n1 and n2 rows under "no difference".</summary>
    public static double AucPValueOf(double auc, int n1, int n2)
    {
        var sd = Math.Sqrt((n1 + n2 + 1) / (12.0 * n1 * n2));
        return 0.5 * SpecialFunctions.Erfc((auc - 0.5) / sd / Math.Sqrt(2));
    }

    private static void Features(int dimension, int classCount, ReadOnlySpan<float> embedding, float[]? probabilities, Span<float> features)
    {
        var norm = TensorPrimitives.Norm(embedding);
        Indexing.UnitVector.TryNormalize(embedding, features[..dimension]);
        features[dimension] = (float)Math.Log(Math.Max(norm, 1e-12));
        for (var c = 0; c < classCount; c++)
        {
            features[dimension + 1 + c] = (float)Math.Log(Math.Max(0, probabilities![c]) + ProbabilityFloor);
        }
    }

    // The class probabilities join the features only when every row has the same number of them.
    private static int SharedClassCount(IReadOnlyList<ShiftSample> training, IReadOnlyList<ShiftSample> production)
    {
        var count = training[0].Probabilities?.Length ?? 0;
        if (count < 2)
        {
            return 0;
        }

        return training.Concat(production).All(r => r.Probabilities?.Length == count) ? count : 0;
    }

    private static (float[] Mean, float[] InverseScale) Standardize(float[] x, int n, int p)
    {
        var mean = new double[p];
        var square = new double[p];
        for (var i = 0; i < n; i++)
        {
            var row = x.AsSpan(i * p, p);
            for (var j = 0; j < p; j++)
            {
                mean[j] += row[j];
                square[j] += (double)row[j] * row[j];
            }
        }

        var m = new float[p];
        var s = new float[p];
        for (var j = 0; j < p; j++)
        {
            var mu = mean[j] / n;
            var variance = Math.Max(0, (square[j] / n) - (mu * mu));
            m[j] = (float)mu;
            s[j] = variance > 1e-12 ? (float)(1 / Math.Sqrt(variance)) : 0f;
        }

        for (var i = 0; i < n; i++)
        {
            var row = x.AsSpan(i * p, p);
            TensorPrimitives.Subtract(row, m, row);
            TensorPrimitives.Multiply(row, s, row);
        }

        return (m, s);
    }

}
