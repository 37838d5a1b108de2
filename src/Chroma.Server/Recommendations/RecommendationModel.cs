using System.Diagnostics;
using Chroma.Server.Background;
using Chroma.Server.Recommendations.Internal;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Everything the engine learns from one version of an embedding set's training data: class means
/// and whitening (<see cref="MahalanobisScorer"/>), a neighbour search over every training row under the
/// set's metric (<see cref="TrainingData.Metric"/>), and calibrators fitted on a held-out slice. Immutable; fit it again only when
/// the training data changes (<see cref="TrainingVersion"/>).
/// </summary>
/// <remarks>
/// A seeded, per-class (stratified) shuffle holds out <see cref="RecommendationOptions.HoldOutFraction"/>
/// of the training records (at most about <see cref="RecommendationOptions.MaxHeldOut"/>), leaving every class at least one fitted record. The rest are fitted (means, covariance). The held-out records are then
/// scored like production records, against the model's predicted class for each where the training data carries it
/// (<see cref="TrainingData.PredictedClass"/>; its label stands in where it does not), and their signal values become the reference distributions of the
/// <see cref="EmpiricalCalibrator"/>s. The neighbour search holds every training row, so a production record's
/// neighbours are exactly what <c>FindNearest</c> on the <c>training</c> dataset returns (every neighbour reason
/// can be reproduced); a held-out record is searched leaving itself out, so its kNN distance is comparable.
/// <para>
/// Cost, n fitted rows of d floats, h held-out rows: class means O(n d); Ledoit-Wolf covariance one
/// streaming pass O(n d^2 / 2); Cholesky and inverse O(d^3); the neighbour search's build (HNSW:
/// about n log n distance evaluations; none for the exact scan); calibration h searches. h is
/// bounded by <see cref="RecommendationOptions.MaxHeldOut"/>, so calibration does not grow with n.
/// Above <see cref="RecommendationOptions.MaxNeighborRows"/> training rows (default 100 000) the neighbour search
/// holds a seeded per-class sample of that many rows instead of every row (kNN detection keeps its quality on a
/// uniform sample of the reference data, Sun et al. 2022), so its build time and memory stop growing with n; the
/// means and covariance still use every fitted row. Neighbour reasons are then reproducible with
/// <c>FindNearest</c> only up to that size.
/// Every parallel step runs on the given <see cref="BackgroundWorkLimiter"/>, never on the thread
/// pool. <see cref="FitDurations"/> reports what each step took.
/// </para>
/// </remarks>
internal sealed partial class RecommendationModel
{
    private readonly IReadOnlyDictionary<SignalKind, EmpiricalCalibrator> _calibrators;
    private readonly SignalMeasurer _measurer;
    private readonly int[] _firstCopies;

    private RecommendationModel(
        string trainingVersion,
        RecommendationOptions options,
        SignalMeasurer measurer,
        int heldOutCount,
        IReadOnlyDictionary<SignalKind, EmpiricalCalibrator> calibrators,
        ModelFitDurations fitDurations,
        int[] fittedRows,
        int[] neighborRows,
        int[] heldOutRows,
        int[] firstCopies,
        ProductionShift? productionShift = null)
    {
        ProductionShift = productionShift;
        HeldOutRows = heldOutRows;
        _firstCopies = firstCopies;
        NeighborRows = neighborRows;
        FitDurations = fitDurations;
        FittedRows = fittedRows;
        TrainingVersion = trainingVersion;
        Options = options;
        _measurer = measurer;
        HeldOutCount = heldOutCount;
        _calibrators = calibrators;
    }

    /// <summary>
    /// The caller's version of the training data this model was fitted on (for example its revision number), and after
    /// <see cref="WithProductionShift"/> the production it was fitted on too (<see cref="ModelVersion"/>).
    /// </summary>
    public string TrainingVersion { get; }

    /// <summary>The production-shift classifier and its calibrator, or null before <see cref="WithProductionShift"/>.</summary>
    public ProductionShift? ProductionShift { get; }

    /// <summary>
    /// The factor the boundary signal's weight carries in a combined score, 0 to 1 (<see cref="BoundaryReliability"/>):
    /// measured on the production sample of <see cref="WithProductionShift"/>; 1 before it.
    /// </summary>
    public double BoundaryFactor => ProductionShift?.BoundaryFactor ?? 1;

    /// <summary>
    /// The share of held-out training records the plurality of whose training neighbours (each left out of its own) is
    /// their label, or null without classes (<see cref="BoundaryReliability"/>'s <c>A_k</c>).
    /// </summary>
    public double? NeighborAccuracy { get; private init; }

    /// <summary>
    /// Gets a value indicating whether a held-out record had a near copy (not an exact one) among the training rows. When
    /// none of them did, the production-shift folds group exact copies only and skip the searches for near ones.
    /// </summary>
    public bool NearCopiesSeen { get; private init; }

    /// <summary>The options the model was fitted with.</summary>
    public RecommendationOptions Options { get; }

    /// <summary>Embedding dimension.</summary>
    public int Dimension => Mahalanobis.Dimension;

    /// <summary>Class means and shrunk covariance.</summary>
    public MahalanobisScorer Mahalanobis => _measurer.Mahalanobis;

    /// <summary>Neighbour search over every training row (index = training row) under <see cref="Metric"/>.</summary>
    public ITrainingNeighborSearch NeighborSearch => _measurer.NeighborSearch;

    /// <summary>The second search for records in the neighbour signals' tail, or null when <see cref="NeighborSearch"/> is exact.</summary>
    public NeighborRefinement? NeighborRefinement => _measurer.Refinement;

    /// <summary>Labels of the training rows, indexed like <see cref="NeighborSearch"/>.</summary>
    public IReadOnlyList<string> NeighborLabels => _measurer.NeighborLabels;

    /// <summary>The set's metric the neighbour signals use.</summary>
    public NeighborMetric Metric => _measurer.Metric;

    /// <summary>
    /// Number of held-out rows below which <see cref="CalibrationIsCoarse"/>: with fewer than 20, no p-value within the
    /// held-out values' range goes below 1/20, so few records can stand out.
    /// </summary>
    public const int CoarseCalibrationRows = 20;

    /// <summary>Gets the number of distinct training embeddings: rows that are their own first exact copy.</summary>
    public int DistinctTrainingRows
    {
        get
        {
            var count = 0;
            for (var r = 0; r < _firstCopies.Length; r++)
            {
                count += _firstCopies[r] == r ? 1 : 0;
            }

            return count;
        }
    }

    /// <summary>
    /// Gets a value indicating whether fewer than <see cref="CoarseCalibrationRows"/> rows measure the calibration
    /// (<see cref="HeldOutRows"/>: one per held-out group of copies), as in a small training set or one of a few vectors
    /// logged again and again.
    /// </summary>
    public bool CalibrationIsCoarse => HeldOutRows.Count < CoarseCalibrationRows;

    /// <summary>Number of training records held out for calibration.</summary>
    public int HeldOutCount { get; }

    /// <summary>
    /// The training rows measured for calibration, ascending: one per held-out group of copies (its first row). Neither
    /// they, their exact copies nor the near copies the neighbour search finds for them are in <see cref="FittedRows"/>.
    /// </summary>
    public IReadOnlyList<int> HeldOutRows { get; }

    /// <summary>The training rows fitted (not held out) into the class means and covariance, ascending.</summary>
    public IReadOnlyList<int> FittedRows { get; }

    /// <summary>
    /// The training row behind each index of <see cref="NeighborSearch"/>: every row (index = row), or above
    /// <see cref="RecommendationOptions.MaxNeighborRows"/> rows a seeded per-class sample of that many, ascending.
    /// </summary>
    public IReadOnlyList<int> NeighborRows { get; }

    /// <summary>What each step of the fit took.</summary>
    public ModelFitDurations FitDurations { get; }

    /// <summary>
    /// Fits a model. Needs at least two training records (one to fit, one to calibrate).
    /// </summary>
    /// <param name="training">Labelled training embeddings.</param>
    /// <param name="trainingVersion">Identifies this training data; the server refits when it changes.</param>
    /// <param name="searchFactory">Builds the neighbour search over the fitted rows; brute force when null.</param>
    /// <param name="options">Engine settings; defaults when null.</param>
    /// <param name="limiter">Threads for the parallel steps; <see cref="BackgroundWorkLimiter.Shared"/> when null.</param>
    /// <param name="cancellationToken">Stops the held-out scoring early.</param>
    public static RecommendationModel Fit(
        TrainingData training,
        string trainingVersion,
        NeighborSearchFactory? searchFactory = null,
        RecommendationOptions? options = null,
        BackgroundWorkLimiter? limiter = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(trainingVersion);
        options ??= new RecommendationOptions();
        if (training.Count < 2)
        {
            throw new ArgumentException($"training has {training.Count} records; fitting needs at least 2.", nameof(training));
        }

        limiter ??= BackgroundWorkLimiter.Shared;
        var clock = Stopwatch.StartNew();

        // Copies are held out together: a held-out record whose copy stays fitted meets itself (kNN distance 0, its
        // class Gaussian fitted on it), which no production record does, and the calibration null comes out too tight.
        var firstCopies = TrainingCopies.ExactFirstCopies(training);
        var (fitRows, heldOutRows) = Split(training.Labels, firstCopies, options);
        var d = training.Dimension;
        var metric = training.Metric;
        var neighborRows = NeighborSample.Take(Enumerable.Range(0, training.Count).ToArray(), training.Labels, options.MaxNeighborRows, options.Seed);
        var everyRow = neighborRows.Length == training.Count;
        var rows = (metric, everyRow) switch
        {
            (NeighborMetric.Cosine, true) => UnitVectors.NormalizeRows(training.Embeddings, d, limiter),
            (NeighborMetric.Cosine, false) => UnitVectors.NormalizeRows(training, neighborRows, limiter),
            (_, true) => training.EmbeddingArray,
            _ => Gather(training, neighborRows),
        };
        IReadOnlyList<string> neighborLabels = everyRow ? training.Labels : neighborRows.Select(r => training.Labels[r]).ToArray();
        var search = (searchFactory ?? BruteForceNeighborSearch.Factory)(rows, d, metric);
        cancellationToken.ThrowIfCancellationRequested();

        // Near copies of each held-out record, found through the search, leave the fitted rows too, and the search
        // leaves them out of its neighbours.
        var ownRows = HeldOutCopies(training, heldOutRows, neighborRows, everyRow, search, rows, firstCopies, options, limiter, cancellationToken);
        (fitRows, heldOutRows, ownRows) = WithoutCopies(training.Labels, fitRows, heldOutRows, ownRows, neighborRows, everyRow, firstCopies, options);
        var searchTime = clock.Elapsed;

        clock.Restart();
        // Without labels (every label "") the one class is the background: no relative distance, no boundary.
        var classes = training.Labels.Any(label => label.Length > 0);
        // Side by side on the limiter's threads: each fit ends in a single-threaded eigendecomposition (HeldOutShrinkage).
        MahalanobisScorer? mahalanobis = null, background = null;
        limiter.For(
            0,
            classes ? 2 : 1,
            1,
            (start, _) =>
            {
                if (start == 0)
                {
                    mahalanobis = MahalanobisScorer.Fit(training, fitRows, heldOutRows, limiter);
                }
                else
                {
                    background = MahalanobisScorer.FitBackground(training, fitRows, heldOutRows, limiter);
                }
            },
            cancellationToken);
        var covarianceTime = clock.Elapsed;
        cancellationToken.ThrowIfCancellationRequested();

        clock.Restart();
        var measurer = new SignalMeasurer(mahalanobis!, search, neighborLabels, options.NeighborCount, metric)
        {
            Background = background,
            SearchRows = rows,
            ClassNorms = ClassNorms(training, fitRows),
        };
        var measured = new EmbeddingMeasurement[heldOutRows.Length];

        // Records in the neighbour signals' tail are searched again (NeighborRefinement); the held-out records follow the
        // same rule, from thresholds their first searches set, so calibration measures as scoring does.
        var references = ReferenceClasses(training, heldOutRows);
        MeasureHeldOut(measurer, training, heldOutRows, ownRows, references, measured, limiter, cancellationToken);
        if (NeighborRefinement.For(search, rows, d, metric, [.. measured.Select(m => m.Neighbors)]) is { } refinement)
        {
            measurer = measurer with { Refinement = refinement };
            RefineHeldOut(measurer, training, heldOutRows, ownRows, references, measured, limiter, cancellationToken);
        }

        var calibrators = new Dictionary<SignalKind, EmpiricalCalibrator>
        {
            [SignalKind.Mahalanobis] = new(measured.Select(m => m.MahalanobisDistance)),
            [SignalKind.KnnDistance] = new(measured.Select(m => m.Neighbors.MeanDistance)),
        };
        if (classes)
        {
            calibrators[SignalKind.RelativeMahalanobis] = new(measured.Select(m => m.RelativeMahalanobis ?? double.NaN));
            calibrators[SignalKind.Boundary] = new(measured.Select(m => m.Neighbors.Disagreement), extrapolateTail: false);
        }

        if (HasNormSpread(measured))
        {
            calibrators[SignalKind.FeatureNorm] = new(measured.Select(m => m.NormShortfall ?? double.NaN), upperBound: 1);
        }

        AddUncertaintyCalibrators(calibrators, training, heldOutRows);
        var durations = new ModelFitDurations(covarianceTime, searchTime, clock.Elapsed, fitRows.Length, heldOutRows.Length, neighborRows.Length);
        return new RecommendationModel(trainingVersion, options, measurer, heldOutRows.Length, calibrators, durations, fitRows, neighborRows, heldOutRows, firstCopies)
        {
            NeighborAccuracy = classes && measured.Length > 0 ? measured.Average(m => m.Neighbors.LabelAgreement ?? BoundaryReliability.Agrees(m.Neighbors)) : null,
            NearCopiesSeen = heldOutRows.Where((row, i) => ownRows[i].Any(index => firstCopies[everyRow ? index : neighborRows[index]] != firstCopies[row])).Any(),
        };
    }

    // The class each held-out row's signals are read against, as a production record's are against its predicted class:
    // the model's prediction for it where the training data carries one (TrainingData.PredictedClass), else its label
    // (then the boundary signal's null distribution holds only the neighbours' errors, not the model's too). A
    // prediction that is no training class (probabilities whose class order the labels do not follow) is not trusted:
    // the label stands in. An unlabelled corpus (every label "") has no boundary signal: its rows keep their label.
    private static string[] ReferenceClasses(TrainingData training, int[] heldOutRows)
    {
        var classes = new HashSet<string>(training.Labels, StringComparer.Ordinal);
        return [.. heldOutRows.Select(row =>
            training.Labels[row].Length > 0 && training.PredictedClass(row) is { } predicted && classes.Contains(predicted) ? predicted : training.Labels[row])];
    }

    // Measures each held-out row against references[i] (ReferenceClasses), leaving its own row and its copies (ownRows[i],
    // search indices, ascending) out of its neighbours.
    private static void MeasureHeldOut(
        SignalMeasurer measurer,
        TrainingData training,
        int[] heldOutRows,
        int[][] ownRows,
        string[] references,
        EmbeddingMeasurement[] measured,
        BackgroundWorkLimiter limiter,
        CancellationToken cancellationToken)
    {
        var d = training.Dimension;
        limiter.For(
            0,
            heldOutRows.Length,
            RecommendationScorer.RecordsPerChunk,
            (start, end) =>
            {
                Span<float> unit = d <= 1024 ? stackalloc float[d] : new float[d];
                for (var i = start; i < end; i++)
                {
                    var row = training.Row(heldOutRows[i]);
                    UnitVectors.Normalize(row, unit);
                    var label = training.Labels[heldOutRows[i]];
                    measured[i] = measurer.MeasureLeavingOut(row, unit, references[i], ownRows[i], label);
                }
            },
            cancellationToken);
    }

    // Searches again the held-out rows in the measurer's refinement tail, a chunk's together (SignalMeasurer.RefineMany).
    private static void RefineHeldOut(
        SignalMeasurer measurer,
        TrainingData training,
        int[] heldOutRows,
        int[][] ownRows,
        string[] references,
        EmbeddingMeasurement[] measured,
        BackgroundWorkLimiter limiter,
        CancellationToken cancellationToken)
    {
        var d = training.Dimension;
        limiter.For(
            0,
            heldOutRows.Length,
            RecommendationScorer.RecordsPerChunk,
            (start, end) =>
            {
                var rows = new float[(end - start) * d];
                var units = new float[(end - start) * d];
                for (var i = start; i < end; i++)
                {
                    training.Row(heldOutRows[i]).CopyTo(rows.AsSpan((i - start) * d, d));
                    UnitVectors.Normalize(rows.AsSpan((i - start) * d, d), units.AsSpan((i - start) * d, d));
                }

                measurer.RefineMany(
                    rows,
                    units,
                    j => references[start + j],
                    j => ownRows[start + j],
                    j => training.Labels[heldOutRows[start + j]],
                    measured.AsSpan(start, end - start));
            },
            cancellationToken);
    }

    /// <summary>
    /// This model plus a <see cref="Recommendations.ProductionShift"/>: a domain classifier fitted on up to
    /// <see cref="ProductionShift.MaxSampleRows"/> of the fitted training rows (a seeded sample) and
    /// <paramref name="production"/> (the caller's uniform sample of at most as many production rows), calibrated on the
    /// held-out training rows. Everything else is shared with this model. Returns this model unchanged when a side of the
    /// sample is empty or no held-out row can be scored.
    /// </summary>
    /// <param name="training">The training data this model was fitted on.</param>
    /// <param name="production">The production sample (folds by <see cref="ProductionShiftClassifier.FoldOf(string)"/> of each record's id).</param>
    /// <param name="throughSequence">The highest production sequence sampled from (0 when the caller has none).</param>
    /// <param name="productionCount">How many production rows there were to sample from.</param>
    /// <param name="reference">
    /// The caller's sample of the set's <c>reference</c> rows (normal data the model never saw), or null. With at least
    /// <see cref="ProductionShift.MinimumReferenceRows"/> of them, the same classifier test first compares the training
    /// rows with them (<see cref="ProductionShift.ReferenceCheck"/>); where it tells them apart at
    /// <see cref="ProductionShift.SignificanceLevel"/>, production is compared with the reference rows instead of the
    /// training rows and the classifier is calibrated on their out-of-fold logits (<see cref="ProductionShift.AgainstReference"/>).
    /// </param>
    /// <param name="limiter">Threads for the folds; <see cref="BackgroundWorkLimiter.Shared"/> when null.</param>
    /// <param name="cancellationToken">Stops the fit.</param>
    public RecommendationModel WithProductionShift(
        TrainingData training,
        IReadOnlyList<ShiftSample> production,
        long throughSequence,
        long productionCount,
        IReadOnlyList<ShiftSample>? reference = null,
        BackgroundWorkLimiter? limiter = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(production);
        if (training.Dimension != Dimension)
        {
            throw new ArgumentException($"training dimension {training.Dimension} differs from the model's {Dimension}.", nameof(training));
        }

        limiter ??= BackgroundWorkLimiter.Shared;
        var fitted = FittedRows.ToArray();
#pragma warning disable CA5394 // A seeded, reproducible sample is the point; nothing here is security-sensitive.
        new Random(Options.Seed).Shuffle(fitted);
#pragma warning restore CA5394
        var sampleRows = fitted.Take(ProductionShift.MaxSampleRows).Order().ToArray();
        var folds = FoldsByCopies(training, sampleRows, limiter, cancellationToken);
        var sample = sampleRows
            .Select((r, i) => new ShiftSample(training.Embeddings.Slice(r * Dimension, Dimension), TrainingProbabilities(training, r), folds[i]))
            .ToArray();
        if (sample.Length == 0 || production.Count == 0)
        {
            return this;
        }

        // The reference rows replace the training rows only where the two differ: the same test, training against
        // reference. Otherwise the training rows, usually many more, are the better sample of the same distribution.
        ProductionShiftClassifier? referenceCheck = null;
        if (reference is { Count: >= ProductionShift.MinimumReferenceRows })
        {
            referenceCheck = ProductionShiftClassifier.Fit(sample, reference, Dimension, Options.Seed, limiter, cancellationToken: cancellationToken);
        }

        var againstReference = ProductionShift.ReferenceDiffers(referenceCheck);
        var classifier = ProductionShiftClassifier.Fit(againstReference ? reference! : sample, production, Dimension, Options.Seed, limiter, cancellationToken: cancellationToken);

        // The calibration's null sample: rows of the side production was compared with that no model saw. A reference
        // row is scored by the model of its own fold, which never saw it; a held-out training row by any fold's.
        double[] nullSample;
        if (againstReference)
        {
            nullSample = [.. reference!.Select(r => classifier.Score(r.Embedding.Span, r.Probabilities, r.Fold)).Where(double.IsFinite)];
        }
        else
        {
            // One row per held-out group: its copies are not in the classifier's sample either.
            nullSample = [.. HeldOutRows
                .Select(r => classifier.Score(training.Row(r), TrainingProbabilities(training, r), ProductionShiftClassifier.FoldOfTrainingRow(r)))
                .Where(double.IsFinite)];
        }

        if (nullSample.Length == 0)
        {
            return this;
        }

        var calibrator = new EmpiricalCalibrator(nullSample);
        return new RecommendationModel(
            ModelVersion.Compose(TrainingVersion, throughSequence, productionCount), Options, _measurer, HeldOutCount, _calibrators, FitDurations, [.. FittedRows], [.. NeighborRows], [.. HeldOutRows], _firstCopies,
            new ProductionShift(classifier, calibrator, throughSequence, productionCount)
            {
                ReferenceCheck = referenceCheck,
                ReferenceRows = reference?.Count ?? 0,
                NullShift = ProductionShift.NullShiftOf(classifier.ProductionOutOfFoldLogits, calibrator),
                BoundaryFactor = MeasureBoundaryFactor(production, limiter, cancellationToken),
            })
        {
            NeighborAccuracy = NeighborAccuracy,
            NearCopiesSeen = NearCopiesSeen,
        };
    }

    /// <summary>
    /// The boundary signal's factor (<see cref="BoundaryReliability"/>) on <paramref name="production"/>: the share of its
    /// rows with a predicted class (at most <see cref="BoundaryAgreementRows"/>, in sample order) whose training neighbours'
    /// plurality is that class, against <see cref="NeighborAccuracy"/>; 1 without classes or with fewer than
    /// <see cref="BoundaryReliability.MinimumAgreementRows"/> such rows.
    /// </summary>
    private double MeasureBoundaryFactor(IReadOnlyList<ShiftSample> production, BackgroundWorkLimiter limiter, CancellationToken cancellationToken)
    {
        if (NeighborAccuracy is not { } neighborAccuracy)
        {
            return 1;
        }

        var rows = production.Where(r => r.PredictedClass is not null).Take(BoundaryAgreementRows).ToArray();
        if (rows.Length < BoundaryReliability.MinimumAgreementRows)
        {
            return 1;
        }

        var agrees = new double[rows.Length];
        var d = Dimension;
        limiter.For(
            0,
            rows.Length,
            RecommendationScorer.RecordsPerChunk,
            (start, end) =>
            {
                var unit = new float[d];
                for (var i = start; i < end; i++)
                {
                    var row = rows[i].Embedding.Span;
                    UnitVectors.Normalize(row, unit);
                    agrees[i] = BoundaryReliability.Agrees(Measure(row, unit, rows[i].PredictedClass).Neighbors);
                }
            },
            cancellationToken);
        var classes = NeighborLabels.Distinct(StringComparer.Ordinal).Count();
        return BoundaryReliability.Factor(neighborAccuracy, agrees.Average(), classes);
    }

    /// <summary>The most production rows the boundary signal's factor is measured on (a binomial share: about 0.01 of spread at 2 000).</summary>
    public const int BoundaryAgreementRows = 2_000;

    private static float[]? TrainingProbabilities(TrainingData training, int row) =>
        training.Probabilities is { } probabilities ? Scheduling.ScoreCodec.UsableProbabilities(probabilities[row]) : null;

    /// <summary>
    /// The calibrator of <see cref="SignalKind.FeatureNorm"/>, or null when the held-out embeddings' lengths do not
    /// vary (unit-length embeddings, for example): then the length says nothing and the signal is left out.
    /// </summary>
    public EmpiricalCalibrator? FeatureNormCalibrator => _calibrators.GetValueOrDefault(SignalKind.FeatureNorm);

    /// <summary>
    /// Gets a value indicating whether the training records had labels. Without them (every label "", a set whose
    /// training records are an unlabelled corpus) the model ranks by distance from the training data alone: it has no
    /// boundary or relative Mahalanobis signal.
    /// </summary>
    public bool HasClasses => _calibrators.ContainsKey(SignalKind.Boundary);

    /// <summary>The calibrator of a distance/boundary signal.</summary>
    public EmpiricalCalibrator CalibratorFor(SignalKind kind) =>
        _calibrators.TryGetValue(kind, out var calibrator)
            ? calibrator
            : throw new ArgumentOutOfRangeException(nameof(kind), kind, "Only Mahalanobis, RelativeMahalanobis, KnnDistance and Boundary are always calibrated on training data.");

    /// <summary>
    /// The calibrator of a probability signal (entropy, margin, least confidence), or null when the
    /// held-out training records carried no class probabilities (the scorer then falls back to the
    /// value normalised to 0..1).
    /// </summary>
    public EmpiricalCalibrator? UncertaintyCalibratorFor(SignalKind kind) => _calibrators.GetValueOrDefault(kind);

    // The probability signals are calibrated like the others when the training records carry the
    // model's class probabilities: against the held-out slice, with a tail bounded by each signal's maximum.
    private static void AddUncertaintyCalibrators(Dictionary<SignalKind, EmpiricalCalibrator> calibrators, TrainingData training, int[] heldOutRows)
    {
        if (training.Probabilities is not { } probabilities)
        {
            return;
        }

        var held = heldOutRows
            .Select(i => Scheduling.ScoreCodec.UsableProbabilities(probabilities[i]))
            .Where(p => p is not null)
            .Select(p => (Uncertainty: PredictionUncertainty.From(p), Classes: p!.Length))
            .ToArray();
        if (held.Length == 0)
        {
            return;
        }

        var classes = held.Max(h => h.Classes);
        calibrators[SignalKind.Entropy] = new(held.Select(h => h.Uncertainty.Entropy), upperBound: Math.Log(Math.Max(classes, 2)));
        calibrators[SignalKind.Margin] = new(held.Select(h => h.Uncertainty.Margin), upperBound: 1);
        calibrators[SignalKind.LeastConfidence] = new(held.Select(h => h.Uncertainty.LeastConfidence), upperBound: 1 - (1.0 / Math.Max(classes, 2)));
    }

    /// <summary>Measures the embedding-based signals of one record (raw embedding and its unit vector).</summary>
    public EmbeddingMeasurement Measure(ReadOnlySpan<float> embedding, ReadOnlySpan<float> unitEmbedding, string? predictedClass) =>
        _measurer.Measure(embedding, unitEmbedding, predictedClass);

    /// <summary>Measures consecutive records at once (<see cref="SignalMeasurer.MeasureMany"/>); row-major embeddings and unit vectors.</summary>
    public void MeasureMany(
        ReadOnlySpan<float> embeddings, ReadOnlySpan<float> unitEmbeddings, Func<int, string?> predictedClass, Span<EmbeddingMeasurement> measurements) =>
        _measurer.MeasureMany(embeddings, unitEmbeddings, predictedClass, measurements);

    // Median length of each class's fitted rows.
    private static Dictionary<string, double> ClassNorms(TrainingData training, int[] fitRows) =>
        fitRows.GroupBy(r => training.Labels[r], StringComparer.Ordinal).ToDictionary(
            g => g.Key,
            g =>
            {
                var norms = g.Select(r => (double)System.Numerics.Tensors.TensorPrimitives.Norm(training.Row(r))).Order().ToArray();
                return norms.Length % 2 == 1 ? norms[norms.Length / 2] : (norms[(norms.Length / 2) - 1] + norms[norms.Length / 2]) / 2;
            },
            StringComparer.Ordinal);

    // The length carries information only when it varies beyond rounding (unit-length embeddings give ~1e-7).
    private static bool HasNormSpread(EmbeddingMeasurement[] measured)
    {
        const double minimumSpread = 1e-4;
        var values = measured.Where(m => m.NormShortfall is { } v && double.IsFinite(v)).Select(m => m.NormShortfall!.Value).ToArray();
        return values.Length > 0 && values.Max() - values.Min() > minimumSpread;
    }

    private static float[] Gather(TrainingData training, int[] rows)
    {
        var d = training.Dimension;
        var result = new float[(long)rows.Length * d];
        for (var i = 0; i < rows.Length; i++)
        {
            training.Row(rows[i]).CopyTo(result.AsSpan(i * d, d));
        }

        return result;
    }
}

/// <summary>What each step of <see cref="RecommendationModel.Fit"/> took (wall clock).</summary>
/// <param name="Covariance">Class means, Ledoit-Wolf covariance, Cholesky and whitening.</param>
/// <param name="NeighborSearch">Normalising the training rows (cosine) and building the neighbour search over them.</param>
/// <param name="Calibration">Measuring the held-out records.</param>
/// <param name="FittedRows">Rows in the means and covariance.</param>
/// <param name="HeldOutRows">Rows measured for calibration.</param>
/// <param name="NeighborRows">Rows in the neighbour search (every training row, or a sample above <see cref="RecommendationOptions.MaxNeighborRows"/>).</param>
internal readonly record struct ModelFitDurations(TimeSpan Covariance, TimeSpan NeighborSearch, TimeSpan Calibration, int FittedRows, int HeldOutRows, int NeighborRows)
{
    /// <summary>Gets the whole fit.</summary>
    public TimeSpan Total => Covariance + NeighborSearch + Calibration;
}
