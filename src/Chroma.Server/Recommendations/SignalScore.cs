namespace Chroma.Server.Recommendations;

/// <summary>One signal of one record: raw value and its calibration.</summary>
/// <param name="Kind">Which signal.</param>
/// <param name="Value">Raw value (a distance, a share, an entropy in nats...).</param>
/// <param name="Percentile">
/// Share of held-out training records less unusual than this one (0..1). For probability signals,
/// which training records lack, the value normalised to 0..1 (see <see cref="PredictionUncertainty"/>).
/// </param>
/// <param name="PValue">
/// Upper-tail p-value used to combine signals (<see cref="EmpiricalCalibrator.PValue"/>); for
/// probability signals <c>1 - Percentile</c>, floored at 1e-6.
/// </param>
internal readonly record struct SignalScore(SignalKind Kind, double Value, double Percentile, double PValue)
{
    /// <summary>Evidence carried by the signal: <c>-log10(PValue)</c> (0 = ordinary, 3 = one in a thousand).</summary>
    public double Surprise => -Math.Log10(PValue);
}
