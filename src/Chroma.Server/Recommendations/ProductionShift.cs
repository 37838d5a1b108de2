namespace Chroma.Server.Recommendations;

/// <summary>
/// The production-shift part of a <see cref="RecommendationModel"/>: a <see cref="ProductionShiftClassifier"/> fitted on
/// a uniform sample of the production rows stored through <see cref="ThroughSequence"/> and on what they are compared
/// with, and its calibrator. What they are compared with: the rows of the set's <c>reference</c> dataset stored through
/// the same sequence when there are at least <see cref="MinimumReferenceRows"/> of them and they differ from the
/// training rows (<see cref="ReferenceCheck"/>, <see cref="AgainstReference"/>; calibrated on the reference rows'
/// out-of-fold logits), otherwise the model's fitted training rows (calibrated on the held-out training rows, which it
/// never saw).
/// </summary>
/// <param name="Classifier">The cross-fitted domain classifier.</param>
/// <param name="Calibrator">Its logit on rows it never saw from the side production is compared with.</param>
/// <param name="ThroughSequence">The highest production sequence the sample was drawn from (0 when the caller has no sequences).</param>
/// <param name="ProductionCount">How many production rows there were to sample from.</param>
/// <remarks>
/// <para>
/// Why a reference set: the model was fitted on its training rows, so it maps them more tightly onto its classes than
/// any input it never saw (on the constructed-shift benchmark a classifier tells the training rows from unseen normal
/// digits with an AUC of 0.73). Compared with training, production differs in that direction too, normal production
/// included, and the classifier spends itself on it; compared with data the model never saw, only the shift is left.
/// Measured in the benchmarks README ("A reference set the model never saw").
/// </para>
/// <para>
/// Because it depends on production, it is refitted as production grows: once there are
/// <see cref="RefitGrowth"/> times as many production rows as at the last fit (<see cref="RefitDue"/>), so the fits and
/// the rescoring they bring cost, summed over a set's life, at most about twice what one fit and one scoring of the
/// final set cost (a geometric series), and each fit is bounded by <see cref="MaxSampleRows"/> rows of each kind.
/// Reference rows logged later make a refit due once they reach <see cref="MinimumReferenceRows"/> or double the
/// ones fitted on (<see cref="Scheduling.ProductionShiftFitter"/>).
/// </para>
/// </remarks>
internal sealed record ProductionShift(ProductionShiftClassifier Classifier, EmpiricalCalibrator Calibrator, long ThroughSequence, long ProductionCount)
{
    /// <summary>
    /// Fewest reference rows production is compared with (fewer: the training rows): enough for the classifier's folds
    /// and for p-values down to about 1/200 before the calibrator's fitted tail.
    /// </summary>
    public const int MinimumReferenceRows = 200;

    /// <summary>Gets whether production was compared with the set's reference rows rather than its training rows.</summary>
    public bool AgainstReference => ReferenceDiffers(ReferenceCheck);

    /// <summary>
    /// Gets the test of the training rows against the reference rows (training labelled 0), or null when the set had
    /// fewer than <see cref="MinimumReferenceRows"/>: production is compared with the reference rows only when this
    /// test tells them apart at <see cref="SignificanceLevel"/>; otherwise the training rows, a larger sample of the
    /// same distribution, stay.
    /// </summary>
    public ProductionShiftClassifier? ReferenceCheck { get; init; }

    /// <summary>Whether the <paramref name="referenceCheck"/> (training against reference rows) tells them apart, so the reference rows replace the training rows.</summary>
    public static bool ReferenceDiffers(ProductionShiftClassifier? referenceCheck) =>
        referenceCheck is { AucPValue: < SignificanceLevel };

    /// <summary>Gets how many reference rows the fit considered (its sample; 0 when none).</summary>
    public int ReferenceRows { get; init; }

    /// <summary>Most rows of each kind (training, production) in the classifier's sample: a seeded uniform sample above it.</summary>
    public const int MaxSampleRows = 20_000;

    /// <summary>Growth of production since the last fit that makes a refit due.</summary>
    public const double RefitGrowth = 2;

    /// <summary>
    /// Growth of production since the last fit (or the last try) that makes a new try due while the signal is left out
    /// (<see cref="Joins"/> false), so a shift that begins after the classifier was fitted on a stream without one is
    /// not left out until production has doubled. A try that still cannot tell production from training is not kept,
    /// so it rescores nothing; each costs one read of the production rows and one fit.
    /// </summary>
    public const double RetryGrowth = 1.1;

    /// <summary>
    /// Significance the classifier's own test must reach for the signal to join the records' scores: while it cannot tell
    /// production from training (a stream without shift), the signal would add only noise, so it is left out.
    /// </summary>
    public const double SignificanceLevel = 0.001;

    /// <summary>Gets whether the classifier tells production from training at <see cref="SignificanceLevel"/>, so records get the signal.</summary>
    public bool Joins => Classifier.AucPValue < SignificanceLevel;

    /// <summary>
    /// Share of production's logits below which the stream's bulk is read (<see cref="NullShift"/>): 0.02, the lowest
    /// fiftieth, a quantile that a shift of most of the stream (above the bulk) leaves among normal records: with half
    /// the stream shifted it is the normal records' lowest 4%, with nine tenths their lowest 20% (a lower quantile
    /// lets less of a shifted part into the estimate; the benchmarks README compares 0.01-0.5).
    /// </summary>
    public const double NullQuantile = 0.02;

    /// <summary>
    /// Gets how far (in logit) the bulk of production lies beyond the side it was compared with: production's
    /// <see cref="NullQuantile"/> quantile of out-of-fold logits minus the calibrator's, and 0 when it lies below. An
    /// empirical null (Efron 2004): where the whole stream differs a little from training (other users, another sensor
    /// batch), that difference is this stream's normal, and the production-shift lead measures records against it
    /// (<see cref="LeadSurprise"/>); the signal itself stays measured against training.
    /// </summary>
    public double NullShift { get; init; }

    /// <summary>
    /// Gets the boundary signal's factor measured on the same production sample (<see cref="BoundaryReliability"/>; the
    /// model's <see cref="RecommendationModel.BoundaryFactor"/>): 1 where it could not be measured.
    /// </summary>
    public double BoundaryFactor { get; init; } = 1;

    /// <summary>
    /// The surprise <c>-log10 p</c> of <paramref name="logit"/> against the calibrator moved by <see cref="NullShift"/>: what
    /// the production-shift lead uses (<see cref="SignalCombiner"/>).
    /// </summary>
    public double LeadSurprise(double logit) => -Math.Log10(Calibrator.PValue(logit - NullShift));

    /// <summary>
    /// The <see cref="NullShift"/> of production rows whose out-of-fold logits are <paramref name="productionLogits"/>
    /// against <paramref name="calibrator"/> (0 when there are none).
    /// </summary>
    public static double NullShiftOf(IReadOnlyList<double> productionLogits, EmpiricalCalibrator calibrator)
    {
        ArgumentNullException.ThrowIfNull(productionLogits);
        ArgumentNullException.ThrowIfNull(calibrator);
        var finite = productionLogits.Where(double.IsFinite).ToArray();
        return finite.Length == 0 ? 0 : Math.Max(0, new EmpiricalCalibrator(finite).Quantile(NullQuantile) - calibrator.Quantile(NullQuantile));
    }

    /// <summary>Whether <paramref name="productionCount"/> production rows make a refit due (<see cref="RefitGrowth"/> times as many as at this fit).</summary>
    public bool RefitDue(long productionCount) => productionCount >= RefitGrowth * Math.Max(1, ProductionCount);

    /// <summary>
    /// Whether <paramref name="productionCount"/> production rows make a new try due while the signal is left out: at least
    /// <see cref="RetryGrowth"/> times, and a tenth of <paramref name="minimumRows"/> more than, the rows of this fit or of
    /// the last try (<paramref name="triedAt"/>). Never while the signal joins.
    /// </summary>
    /// <param name="productionCount">Production rows now.</param>
    /// <param name="triedAt">Production rows of the last try that was not kept, or 0.</param>
    /// <param name="minimumRows">The fewest production rows a classifier is fitted on (<see cref="RecommendationOptions.ProductionShiftMinimumRows"/>).</param>
    public bool RetryDue(long productionCount, long triedAt, int minimumRows)
    {
        var since = Math.Max(Math.Max(1, ProductionCount), triedAt);
        return !Joins && productionCount >= Math.Max(RetryGrowth * since, since + Math.Max(1, minimumRows / 10));
    }
}
