namespace Chroma.Server.Recommendations;

/// <summary>
/// How far a record's distance signals (Mahalanobis, kNN) may go before <see cref="LabelingSelector"/> leaves it for
/// review instead of making it a labeling candidate, measured against the production stream being ranked: one in a
/// thousand (<see cref="SignalCombiner.LabelingDistanceAllowance"/>) beyond where the stream as a whole lies.
/// </summary>
/// <remarks>
/// <para>
/// Per distance signal, with <c>m</c> the median surprise (-log10 p) of the production records and log10 2 (about
/// 0.301) the median a stream like the training data has (p = 0.5 on the held-out training slice):
/// <code>
/// allowance = 3 + (m - log10 2)    when the stream's median is above log10 2 with one-in-a-thousand confidence
/// allowance = 3                    otherwise
/// </code>
/// A record is left out only when it is far from the training data and also far beyond the bulk of production. Why:
/// under a shift of the whole stream (blur, a new camera) most production records are far from training by the
/// first model's measure, and these are exactly the records a label improves; a fixed allowance left 3-31 % of the
/// blurred digits of the <c>active-learning</c> benchmark out of the list, and the retrained model stayed wrong on that
/// kind. A minority of foreign inputs (another data set) moves the median little and stays beyond the raised allowance
/// as long as it is foreign by more than the stream moved. A stream with no shift keeps the fixed allowance.
/// </para>
/// <para>
/// The confidence test is distribution-free: the number of values below the true median is Binomial(n, 1/2), so the
/// order statistic of index <c>floor(n/2 - 3.09 sqrt(n)/2)</c> (0-based, ascending) lies below it with probability
/// about 1 - 1/1000. The allowance is raised only when that order statistic is above log10 2, so a handful of records
/// (fewer than 10 never do) cannot move it, and a stream like the training data moves it once in a thousand.
/// </para>
/// </remarks>
/// <param name="Mahalanobis">The allowance of the Mahalanobis signal's surprise.</param>
/// <param name="KnnDistance">The allowance of the kNN-distance signal's surprise.</param>
internal readonly record struct LabelingAllowance(double Mahalanobis, double KnnDistance)
{
    /// <summary>The one-sided standard normal quantile of one in a thousand (3.09), for the confidence test.</summary>
    public const double EvidenceZ = 3.09;

    /// <summary>The median surprise of a stream like the training data: -log10 0.5 (log10 2, about 0.301).</summary>
    public static readonly double TypicalSurprise = -Math.Log10(0.5);

    /// <summary>The fixed allowance, <see cref="SignalCombiner.LabelingDistanceAllowance"/> for both signals.</summary>
    public static LabelingAllowance Fixed { get; } = new(SignalCombiner.LabelingDistanceAllowance, SignalCombiner.LabelingDistanceAllowance);

    /// <summary>The allowance for ranking <paramref name="records"/> (see the remarks).</summary>
    public static LabelingAllowance Of(IReadOnlyList<ScoredRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        return new(
            SignalCombiner.LabelingDistanceAllowance + StreamShift(records, SignalKind.Mahalanobis),
            SignalCombiner.LabelingDistanceAllowance + StreamShift(records, SignalKind.KnnDistance));
    }

    /// <summary>
    /// How far the median surprise of <paramref name="kind"/> over the records that have it lies above
    /// <see cref="TypicalSurprise"/>, or 0 unless it does so with one-in-a-thousand confidence.
    /// </summary>
    public static double StreamShift(IReadOnlyList<ScoredRecord> records, SignalKind kind)
    {
        ArgumentNullException.ThrowIfNull(records);
        var surprises = new List<double>(records.Count);
        foreach (var record in records)
        {
            if (record.Signal(kind) is { } signal)
            {
                surprises.Add(signal.Surprise);
            }
        }

        var n = surprises.Count;
        var lower = (int)Math.Floor((n / 2.0) - (EvidenceZ * Math.Sqrt(n) / 2));
        if (lower < 0)
        {
            return 0;
        }

        surprises.Sort();
        return surprises[lower] > TypicalSurprise ? surprises[n / 2] - TypicalSurprise : 0;
    }

    /// <summary>
    /// How far the distance signals of <paramref name="signals"/> go beyond this allowance, in -log10 p: the larger
    /// excess of the two, 0 within both. A record with an excess is no labeling candidate.
    /// </summary>
    public double Excess(IReadOnlyList<SignalScore> signals)
    {
        ArgumentNullException.ThrowIfNull(signals);
        double excess = 0;
        foreach (var signal in signals)
        {
            var allowance = signal.Kind switch
            {
                SignalKind.Mahalanobis => Mahalanobis,
                SignalKind.KnnDistance => KnnDistance,
                _ => double.PositiveInfinity,
            };
            excess = Math.Max(excess, signal.Surprise - allowance);
        }

        return excess;
    }
}
