using System.Runtime.InteropServices;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Turns a record's calibrated signals into one score for a <see cref="RecommendationStrategy"/>:
/// the weighted mean of the signals' surprises <c>-log10 p</c>, led part of the way towards the production-shift
/// signal where that signal says more.
/// </summary>
/// <remarks>
/// <code>
/// score = sum_s w_s (-log10 p_s) / sum_s w_s     over the signals the record has
/// </code>
/// A score of 3 reads as "on average one in a thousand". Weights per strategy (the three
/// probability signals are near-copies of each other, so they share one vote):
/// <code>
///                      Mahalanobis  RelativeMahalanobis  kNN  FeatureNorm  ProductionShift  Boundary  Entropy  Margin  LeastConfidence
/// Balanced                 1                1              1       1            1              1        1/3      1/3       1/3
/// OutOfDistribution        1                1              1       1            1             0.1      0.1/3    0.1/3     0.1/3
/// Uncertainty             0.1              0.1            0.1     0.1          0.1             1        1/3      1/3       1/3   (distances capped at 3; boundary at p = 0.5 beyond 3 on kNN)
/// Labeling                 0                0              0       0            0              1        1/3      1/3       1/3   (and a distance penalty, below)
/// </code>
/// Each weight is also multiplied by the record's <see cref="WeightFactor"/>: the boundary signal's by its
/// <see cref="ScoredRecord.BoundaryFactor"/> (<see cref="BoundaryReliability"/>: how far the neighbours' disagreement
/// reflects the model's errors), the probability signals' by <c>2 - f</c>, so they take the weight the boundary gives up.
/// The feature-norm signal (a short embedding) joined the distance signals on the constructed shifts of
/// <c>tests/Chroma.Benchmarks</c> (<c>ood</c>; blur, noise, scale, translation gain most; see the benchmarks README).
/// The production-shift signal (a domain classifier between training and production, <see cref="ProductionShiftClassifier"/>)
/// joined them the same way (scale, blur and noise gain most on those shifts); it weighs 0 under labeling, which ranks
/// by uncertainty within the training distribution.
/// <para>
/// <b>The production-shift lead.</b> Where a record has the production-shift signal (only while the domain classifier
/// tells this set's production from its training data, <see cref="ProductionShift"/>), its lead surprise <c>s_lead</c>
/// (<see cref="ScoredRecord.ShiftLeadSurprise"/>) is the classifier's logit measured against the stream's bulk
/// (<see cref="ProductionShift.LeadSurprise"/>: the null of the signal moved by <see cref="ProductionShift.NullShift"/>,
/// how far production's lowest 2% lies beyond training's). Where it exceeds both the weighted mean <c>m</c> and
/// <see cref="ShiftLeadFloor"/> (1: one in ten of the bulk), part of the excess joins the score
/// (<see cref="ShiftLead"/>: out-of-distribution 1; balanced a share that grows with the evidence, from 0 at the floor
/// towards 1; uncertainty and labeling 0):
/// </para>
/// <code>
/// score = m + lead * max(0, s_lead - max(m, 1))
/// lead (balanced) = (1 - 10^(1 - s_lead))^2 = (1 - p_lead / 0.1)^2     0 at the floor, 0.81 at one in a hundred
/// </code>
/// <para>
/// Balanced's ramp: <c>p_lead / 0.1</c> is the chance that a record of the bulk beyond the floor lies beyond this one, so
/// a record just past the floor (where the classifier's noise puts one in ten of the bulk, the model's errors among
/// them) is barely led and one the bulk almost never reaches is led nearly all the way, as out-of-distribution leads.
/// Against the constant 1/2 it replaced (benchmarks README "Balanced's lead ramps with the evidence"): production half
/// normal digits drawn like training and half one shift, blur 0.946 -> 0.962, scale 0.992 -> 0.994, translation 0.982
/// -> 0.984, misclassified vs correct 0 to 0.003 lower; normal digits from other writers than training: shifts and
/// misclassified vs correct level (within 0.002); every shift at once, random split: scale 0.960 -> 0.963, class absent
/// 0.906 -> 0.912.
/// </para>
/// <para>
/// The other signals are fixed detectors, each good on some shifts and blind (or inverted: a blurred digit lies
/// <i>closer</i> to its class mean than a sharp one) on others, so in a mean the one signal that learnt what this
/// stream's shift looks like is one vote of six and is outvoted exactly where it alone sees the shift. Measured against
/// training, a difference the whole stream shares (new users, another sensor batch: a shift the model may well handle)
/// put much of the stream beyond any fixed floor, and the classifier's logit, noise to the ranking on those records,
/// half-ranked the model's errors; measured against the stream's bulk, such a difference is this stream's normal and a
/// group beyond it still leads. Measured on the constructed shifts of <c>tests/Chroma.Benchmarks</c>
/// (<c>ood --production-settings</c>, benchmarks README "The lead against the stream's bulk"): with production half
/// normal digits drawn like training and half one shift, balanced blur 0.875 -> 0.945, scale 0.982 -> 0.992, rotation
/// 0.922 -> 0.933 against the first rule (the signal's own surprise from a floor of 2), misclassified vs correct
/// 0.002-0.009 lower; with the normal digits from other writers than training, misclassified vs correct 0.919-0.941 ->
/// 0.934-0.943 and the shifts level (scale 0.975 -> 0.969, blur 0.851 -> 0.855); with every shift at once (89% of
/// production), random split, scale 0.942 -> 0.960, blur 0.835 -> 0.866. A record stored before the lead was measured
/// against the bulk has no lead surprise and keeps the rule it was scored under (its own surprise from
/// <see cref="TrainingShiftLeadFloor"/>, 2) until it is rescored.
/// </para>
/// <para>
/// Without the signal (no shift found, or fewer production rows than the classifier needs) nothing changes.
/// </para>
/// <see cref="RecommendationStrategy.Labeling"/> scores (its list is <see cref="LabelingSelector"/>'s) by the Uncertainty weights over the boundary and probability
/// signals only, minus how far the record's stronger distance signal (Mahalanobis or kNN) goes beyond
/// <see cref="LabelingDistanceAllowance"/> (one in a thousand):
/// <code>
/// labeling = u - max(0, max(s_mahalanobis, s_knn) - 3)     u = (s_boundary + (s_entropy + s_margin + s_least_confidence) / 3) / 2
/// </code>
/// An input far outside everything the model was trained on (another data set, a broken sensor) is something to
/// review, and a label for it (if it has one of the model's classes at all) teaches the model little; an ambiguous
/// input of the kind it was trained on, even somewhat shifted, is what a label improves. The penalty is zero within
/// one in a thousand, so a moderate shift of the whole production stream still ranks by uncertainty. The score sees
/// one record at a time, so its penalty uses the fixed allowance; the labeling list's candidates
/// (<see cref="LabelingSelector"/>) use <see cref="LabelingAllowance"/>, the same allowance raised by how far the
/// production stream as a whole lies beyond the training data, so a shift of the whole stream stays labelable.
/// A weighted mean rather than Fisher's sum: the signals are correlated (Mahalanobis and kNN
/// distance measure the same thing two ways), so Fisher's independence assumption would overstate
/// the evidence, and a mean keeps records with and without probabilities on one scale.
/// A record without class probabilities (logged without inference, or with unusable ones) has no entropy, margin
/// or least-confidence signal. Under balanced, out-of-distribution and uncertainty their shared vote then counts as
/// unknown, i.e. typical: the median, p = 0.5 (<see cref="UnknownSurprise"/>), with its usual weight. Renormalising
/// over the signals present instead would hand that vote to the others: under uncertainty the distance signals' share
/// grew from a fifth to a third, so a far-out record without inference outranked records with real uncertainty on
/// distance alone. With the rule it scores as a record with typical probabilities would. In a set where no record
/// has probabilities every score gets the same vote added, so the order is unchanged. Labeling takes no part: its
/// distance signals weigh nothing, so the missing vote would only rescale the boundary signal against the penalty.
/// </remarks>
internal static class SignalCombiner
{
    /// <summary>
    /// Distance surprise (-log10 p) a record may have before <see cref="RecommendationStrategy.Labeling"/> pushes it down: 3, one in a thousand
    /// (for the labeling list's candidates, beyond where the production stream lies: <see cref="LabelingAllowance"/>).
    /// </summary>
    public const double LabelingDistanceAllowance = 3;

    /// <summary>
    /// The most surprise a distance signal (Mahalanobis, relative Mahalanobis, kNN, feature norm, production shift) adds to
    /// <see cref="RecommendationStrategy.Uncertainty"/>'s mean: 3, one in a thousand. Those signals break ties there, at a
    /// tenth of the weight; uncapped, a distance surprise is unbounded (an input far beyond every training record reads
    /// p = 0 or close to it) while the probability signals end near their calibration's 1/(N+1), so inputs far out on
    /// which the model stays right outranked its ambiguous predictions (probe Y, Y4: misclassified vs correct 0.59-0.86
    /// against max softmax's 0.87-0.93 on shifts that move inputs far without errors).
    /// </summary>
    /// <remarks>
    /// Beyond the same level on kNN distance (the record is farther from its training neighbours than one in a thousand),
    /// the boundary signal counts at most as typical (p = 0.5, <see cref="UnknownSurprise"/>) under uncertainty: those
    /// neighbours are not where the record is, so their disagreement says little about the model's prediction there
    /// (probe Y, Y4: a new cluster the model labels right read as ambiguous, 0.754 against max softmax's 0.866; 0.965 with
    /// the rule).
    /// </remarks>
    public const double UncertaintyDistanceCap = 3;

    /// <summary>
    /// The surprise a record without class probabilities counts for their vote (see the remarks): that of the median,
    /// p = 0.5, so -log10 0.5 (about 0.301).
    /// </summary>
    public static readonly double UnknownSurprise = -Math.Log10(0.5);

    /// <summary>The weight of <paramref name="kind"/> under <paramref name="strategy"/> (see the remarks).</summary>
    public static double Weight(RecommendationStrategy strategy, SignalKind kind)
    {
        var (distance, uncertainty) = strategy switch
        {
            RecommendationStrategy.Balanced => (1.0, 1.0),
            RecommendationStrategy.OutOfDistribution => (1.0, 0.1),
            RecommendationStrategy.Uncertainty => (0.1, 1.0),
            RecommendationStrategy.Labeling => (0.0, 1.0),
            _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Unknown strategy."),
        };

        return kind switch
        {
            SignalKind.Mahalanobis or SignalKind.KnnDistance or SignalKind.RelativeMahalanobis or SignalKind.FeatureNorm => distance,
            SignalKind.ProductionShift => strategy == RecommendationStrategy.Labeling ? 0 : distance,
            SignalKind.Boundary => uncertainty,
            SignalKind.Entropy or SignalKind.Margin or SignalKind.LeastConfidence => uncertainty / 3,
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown signal."),
        };
    }

    /// <summary>
    /// The production-shift lead surprise (against the stream's bulk) below which that signal does not lead a score: 1,
    /// one in ten (see the remarks).
    /// </summary>
    public const double ShiftLeadFloor = 1;

    /// <summary>
    /// The floor of a record whose stored score has no lead surprise against the stream's bulk (scored before it was
    /// measured): 2, one in a hundred against training, the signal's own surprise, as it was scored, until the record is
    /// rescored (the next production-shift refit or training change). Nothing stored changes its score on an upgrade.
    /// </summary>
    public const double TrainingShiftLeadFloor = 2;

    /// <summary>
    /// How much of what the production-shift lead surprise <paramref name="leadSurprise"/> (against the stream's bulk)
    /// exceeds both the weighted mean and <see cref="ShiftLeadFloor"/> by joins <paramref name="strategy"/>'s score:
    /// out-of-distribution 1; balanced <c>(1 - 10^(ShiftLeadFloor - s))^2</c>, 0 up to the floor and towards 1 beyond
    /// it; uncertainty and labeling 0 (see the remarks).
    /// </summary>
    public static double ShiftLead(RecommendationStrategy strategy, double leadSurprise) => strategy switch
    {
        RecommendationStrategy.Balanced => leadSurprise > ShiftLeadFloor ? Math.Pow(1 - Math.Pow(10, ShiftLeadFloor - leadSurprise), 2) : 0.0,
        RecommendationStrategy.OutOfDistribution => 1.0,
        RecommendationStrategy.Uncertainty or RecommendationStrategy.Labeling => 0.0,
        _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Unknown strategy."),
    };

    /// <summary>
    /// The lead of a record scored before the lead surprise was measured against the stream's bulk (the signal's own
    /// surprise from <see cref="TrainingShiftLeadFloor"/>), as it was scored: balanced 1/2, out-of-distribution 1,
    /// uncertainty and labeling 0.
    /// </summary>
    public static double TrainingShiftLead(RecommendationStrategy strategy) => strategy switch
    {
        RecommendationStrategy.Balanced => 0.5,
        RecommendationStrategy.OutOfDistribution => 1.0,
        RecommendationStrategy.Uncertainty or RecommendationStrategy.Labeling => 0.0,
        _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Unknown strategy."),
    };

    /// <summary>The combined score of <paramref name="record"/>: its signals, led by its <see cref="ScoredRecord.ShiftLeadSurprise"/>.</summary>
    public static double Score(ScoredRecord record, RecommendationStrategy strategy)
    {
        ArgumentNullException.ThrowIfNull(record);
        return Score(record.Signals, strategy, record.ShiftLeadSurprise, record.BoundaryFactor);
    }

    /// <summary>
    /// The combined score of <paramref name="signals"/> (0 when there are none); <paramref name="shiftLeadSurprise"/>: the
    /// production-shift surprise against the stream's bulk that leads it (<see cref="ProductionShift.LeadSurprise"/>), or
    /// null for a record scored before the lead was measured that way, which keeps the rule it was scored under: the
    /// signal's own surprise from <see cref="TrainingShiftLeadFloor"/>. <paramref name="boundaryFactor"/>: the factor of the
    /// boundary signal's weight (<see cref="ScoredRecord.BoundaryFactor"/>).
    /// </summary>
    public static double Score(IReadOnlyList<SignalScore> signals, RecommendationStrategy strategy, double? shiftLeadSurprise = null, double boundaryFactor = 1)
    {
        ArgumentNullException.ThrowIfNull(signals);

        // Rankings score every record of a set per request: no enumerator to allocate for the usual array.
        var span = AsSpan(signals);
        if (strategy == RecommendationStrategy.Labeling)
        {
            return LabelingScore(span, boundaryFactor);
        }

        var mean = WeightedMean(span, strategy, boundaryFactor);
        if (strategy is RecommendationStrategy.Balanced or RecommendationStrategy.OutOfDistribution)
        {
            foreach (ref readonly var signal in span)
            {
                if (signal.Kind == SignalKind.ProductionShift)
                {
                    return shiftLeadSurprise is { } againstTheBulk
                        ? WithShiftLead(mean, againstTheBulk, ShiftLead(strategy, againstTheBulk), ShiftLeadFloor)
                        : WithShiftLead(mean, signal.Surprise, TrainingShiftLead(strategy), TrainingShiftLeadFloor);
                }
            }
        }

        return mean;
    }

    /// <summary>
    /// <c>mean + lead * max(0, shiftSurprise - max(mean, floor))</c>: the production-shift lead (see the remarks) with a
    /// given lead and floor (the strategies use <see cref="ShiftLead"/> and <see cref="ShiftLeadFloor"/>); a NaN surprise
    /// adds nothing.
    /// </summary>
    internal static double WithShiftLead(double mean, double shiftSurprise, double lead, double floor)
    {
        var from = Math.Max(mean, floor);
        return shiftSurprise > from ? mean + (lead * (shiftSurprise - from)) : mean;
    }

    /// <summary>
    /// The weighted mean of the surprises of <paramref name="signals"/> under <paramref name="strategy"/>'s weights
    /// (<see cref="Weight(RecommendationStrategy, SignalKind)"/>; 0 when there are none), before the production-shift lead (<see cref="ShiftLead"/>);
    /// not defined for <see cref="RecommendationStrategy.Labeling"/>, whose score is not a mean.
    /// </summary>
    public static double WeightedMean(IReadOnlyList<SignalScore> signals, RecommendationStrategy strategy, double boundaryFactor = 1)
    {
        ArgumentNullException.ThrowIfNull(signals);
        if (strategy == RecommendationStrategy.Labeling)
        {
            throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "The labeling score is not a weighted mean.");
        }

        return WeightedMean(AsSpan(signals), strategy, boundaryFactor);
    }

    /// <summary>
    /// The weight of <paramref name="kind"/> under <paramref name="strategy"/> in a record's score:
    /// <see cref="Weight(RecommendationStrategy, SignalKind)"/> times <see cref="WeightFactor"/>.
    /// </summary>
    public static double Weight(RecommendationStrategy strategy, SignalKind kind, double boundaryFactor) =>
        Weight(strategy, kind) * WeightFactor(kind, boundaryFactor);

    /// <summary>
    /// The factor of <paramref name="kind"/>'s weight in a record whose boundary factor is <paramref name="boundaryFactor"/>
    /// (<see cref="ScoredRecord.BoundaryFactor"/>, <see cref="BoundaryReliability"/>): the boundary signal keeps
    /// <c>f</c> of its weight and the probability signals share what it gives up (each <c>2 - f</c> times its third of
    /// the boundary's weight), so the uncertainty vote keeps its size and the distance signals their share; every other
    /// signal 1.
    /// </summary>
    public static double WeightFactor(SignalKind kind, double boundaryFactor) => kind switch
    {
        SignalKind.Boundary => boundaryFactor,
        SignalKind.Entropy or SignalKind.Margin or SignalKind.LeastConfidence => 2 - boundaryFactor,
        _ => 1,
    };

    private static double WeightedMean(ReadOnlySpan<SignalScore> signals, RecommendationStrategy strategy, double boundaryFactor)
    {
        double weighted = 0, total = 0;
        var hasProbabilities = false;
        var farFromNeighbours = FarFromNeighbours(signals, strategy);
        foreach (ref readonly var signal in signals)
        {
            var weight = Weight(strategy, signal.Kind, boundaryFactor);
            weighted += weight * CountedSurprise(signal, strategy, farFromNeighbours);
            total += weight;
            hasProbabilities |= IsProbabilitySignal(signal.Kind);
        }

        if (!hasProbabilities && signals.Length > 0)
        {
            // No class probabilities (a record logged without them): their vote counts as typical, so the strategy's
            // weights keep their balance instead of renormalising onto the signals present.
            var weight = Weight(strategy, SignalKind.Entropy, boundaryFactor) + Weight(strategy, SignalKind.Margin, boundaryFactor)
                + Weight(strategy, SignalKind.LeastConfidence, boundaryFactor);
            weighted += weight * UnknownSurprise;
            total += weight;
        }

        return total > 0 ? weighted / total : 0;
    }

    /// <summary>
    /// How far the stronger distance signal (Mahalanobis or kNN) of <paramref name="signals"/> goes beyond
    /// <see cref="LabelingDistanceAllowance"/>, in -log10 p (0 within it): the penalty of the labeling score
    /// (<see cref="LabelingSelector"/>'s candidates use <see cref="LabelingAllowance"/>, measured against the stream).
    /// </summary>
    public static double LabelingDistanceExcess(IReadOnlyList<SignalScore> signals)
    {
        ArgumentNullException.ThrowIfNull(signals);
        return DistanceExcess(AsSpan(signals));
    }

    private static bool IsProbabilitySignal(SignalKind kind) => kind is SignalKind.Entropy or SignalKind.Margin or SignalKind.LeastConfidence;

    /// <summary>
    /// What <paramref name="signal"/> of <paramref name="record"/> adds to <paramref name="strategy"/>'s mean before it is
    /// divided by the total weight: its weight times the surprise it counts for (<see cref="UncertaintyDistanceCap"/>).
    /// The reasons are ordered by it (<see cref="ReasonWriter"/>).
    /// </summary>
    public static double Contribution(ScoredRecord record, SignalScore signal, RecommendationStrategy strategy)
    {
        ArgumentNullException.ThrowIfNull(record);
        return Weight(strategy, signal.Kind, record.BoundaryFactor) * CountedSurprise(signal, strategy, FarFromNeighbours(AsSpan(record.Signals), strategy));
    }

    // Under uncertainty a distance signal counts at most UncertaintyDistanceCap, and the boundary of a record beyond it on
    // kNN distance at most as typical (the remarks of UncertaintyDistanceCap); elsewhere every signal its own surprise.
    private static double CountedSurprise(in SignalScore signal, RecommendationStrategy strategy, bool farFromNeighbours) =>
        strategy != RecommendationStrategy.Uncertainty ? signal.Surprise
        : !IsUncertaintySignal(signal.Kind) ? Math.Min(signal.Surprise, UncertaintyDistanceCap)
        : farFromNeighbours && signal.Kind == SignalKind.Boundary ? Math.Min(signal.Surprise, UnknownSurprise)
        : signal.Surprise;

    // Whether the record lies beyond UncertaintyDistanceCap on kNN distance, where it matters (under uncertainty).
    private static bool FarFromNeighbours(ReadOnlySpan<SignalScore> signals, RecommendationStrategy strategy)
    {
        if (strategy != RecommendationStrategy.Uncertainty)
        {
            return false;
        }

        foreach (ref readonly var signal in signals)
        {
            if (signal.Kind == SignalKind.KnnDistance)
            {
                return signal.Surprise > UncertaintyDistanceCap;
            }
        }

        return false;
    }

    private static bool IsUncertaintySignal(SignalKind kind) => kind == SignalKind.Boundary || IsProbabilitySignal(kind);

    private static ReadOnlySpan<SignalScore> AsSpan(IReadOnlyList<SignalScore> signals) => signals switch
    {
        SignalScore[] array => array,
        List<SignalScore> list => CollectionsMarshal.AsSpan(list),
        _ => signals.ToArray(),
    };

    private static double DistanceExcess(ReadOnlySpan<SignalScore> signals)
    {
        double distance = 0;
        foreach (ref readonly var signal in signals)
        {
            if (signal.Kind is SignalKind.Mahalanobis or SignalKind.KnnDistance)
            {
                distance = Math.Max(distance, signal.Surprise);
            }
        }

        return Math.Max(0, distance - LabelingDistanceAllowance);
    }

    private static double LabelingScore(ReadOnlySpan<SignalScore> signals, double boundaryFactor)
    {
        double weighted = 0, total = 0;
        foreach (ref readonly var signal in signals)
        {
            if (signal.Kind is SignalKind.Mahalanobis or SignalKind.KnnDistance)
            {
                continue;
            }

            var weight = Weight(RecommendationStrategy.Labeling, signal.Kind, boundaryFactor);
            weighted += weight * signal.Surprise;
            total += weight;
        }

        var uncertainty = total > 0 ? weighted / total : 0;
        return uncertainty - DistanceExcess(signals);
    }
}
