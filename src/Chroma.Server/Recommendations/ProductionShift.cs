namespace Chroma.Server.Recommendations;

/// <summary>
/// The production-shift part of a <see cref="RecommendationModel"/>: a <see cref="ProductionShiftClassifier"/> fitted on
/// the model's fitted training rows and a uniform sample of the production rows stored through
/// <see cref="ThroughSequence"/>, and its calibrator against the held-out training rows (which it never saw).
/// </summary>
/// <param name="Classifier">The cross-fitted domain classifier.</param>
/// <param name="Calibrator">Its logit on the held-out training rows.</param>
/// <param name="ThroughSequence">The highest production sequence the sample was drawn from (0 when the caller has no sequences).</param>
/// <param name="ProductionCount">How many production rows there were to sample from.</param>
/// <remarks>
/// Because it depends on production, it is refitted as production grows: once there are
/// <see cref="RefitGrowth"/> times as many production rows as at the last fit (<see cref="RefitDue"/>), so the fits and
/// the rescoring they bring cost, summed over a set's life, at most about twice what one fit and one scoring of the
/// final set cost (a geometric series), and each fit is bounded by <see cref="MaxSampleRows"/> rows of each kind.
/// </remarks>
internal sealed record ProductionShift(ProductionShiftClassifier Classifier, EmpiricalCalibrator Calibrator, long ThroughSequence, long ProductionCount)
{
    /// <summary>Most rows of each kind (training, production) in the classifier's sample: a seeded uniform sample above it.</summary>
    public const int MaxSampleRows = 20_000;

    /// <summary>Growth of production since the last fit that makes a refit due.</summary>
    public const double RefitGrowth = 2;

    /// <summary>
    /// Significance the classifier's own test must reach for the signal to join the records' scores: while it cannot tell
    /// production from training (a stream without shift), the signal would add only noise, so it is left out.
    /// </summary>
    public const double SignificanceLevel = 0.001;

    /// <summary>Gets whether the classifier tells production from training at <see cref="SignificanceLevel"/>, so records get the signal.</summary>
    public bool Joins => Classifier.AucPValue < SignificanceLevel;

    /// <summary>Whether <paramref name="productionCount"/> production rows make a refit due (<see cref="RefitGrowth"/> times as many as at this fit).</summary>
    public bool RefitDue(long productionCount) => productionCount >= RefitGrowth * Math.Max(1, ProductionCount);
}
