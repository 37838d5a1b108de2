namespace Chroma.Server.Recommendations;

/// <summary>
/// The signals of one production record under one model version. Independent of every other
/// record, so it stays valid until the model (training data) changes.
/// </summary>
/// <param name="Id">Record id.</param>
/// <param name="TrainingVersion">The <see cref="RecommendationModel.TrainingVersion"/> it was scored with.</param>
/// <param name="UnitEmbedding">L2-normalised embedding, for near-duplicate and diversity distances (kept in half precision).</param>
/// <param name="PredictedClass">The model's predicted class, or null.</param>
/// <param name="Measurement">Raw embedding-based signals.</param>
/// <param name="Uncertainty">Probability-based signals, or null when the record had no probabilities.</param>
/// <param name="Signals">Every available signal, calibrated, in <see cref="SignalKind"/> order.</param>
internal sealed record ScoredRecord(
    string Id,
    string TrainingVersion,
    ReadOnlyMemory<float> UnitEmbedding,
    string? PredictedClass,
    EmbeddingMeasurement Measurement,
    PredictionUncertainty? Uncertainty,
    IReadOnlyList<SignalScore> Signals)
{
    // The unit embedding in half precision: every scored record of a set is held while its ranking is served, and a
    // float copy was a third of that memory (512 of about 1,200 bytes a record at 128-d, 6 KiB at 1,536). Half keeps
    // cosine distances between unit vectors within 1e-3 (ScoredRecordUnitTests), far inside the near-duplicate
    // threshold (0.05).
    private readonly Half[] _unit = Narrow(UnitEmbedding.Span);

    /// <summary>Gets the L2-normalised embedding, widened from half precision (a new array per call).</summary>
    public ReadOnlyMemory<float> UnitEmbedding => Widen(_unit);

    /// <summary>Gets the unit embedding's dimension.</summary>
    public int Dimension => _unit.Length;

    /// <summary>Writes the unit embedding (widened from half precision) into <paramref name="destination"/>.</summary>
    public void CopyUnitTo(Span<float> destination) => System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(_unit, destination);

    /// <summary>
    /// The model's class probabilities as logged (null when the record had none): the labeling selection's gradient
    /// embedding (<see cref="LabelingSelector"/>) needs the whole vector, not only its summaries.
    /// </summary>
    public float[]? Probabilities { get; init; }

    /// <summary>
    /// The production-shift surprise the lead of <see cref="SignalCombiner"/> uses: against the stream's bulk
    /// (<see cref="ProductionShift.LeadSurprise"/>), or null when the record has no production-shift signal (or was
    /// stored before the lead was measured that way: the signal's own surprise then leads).
    /// </summary>
    public double? ShiftLeadSurprise { get; init; }

    /// <summary>
    /// The factor the boundary signal's weight carries in this record's combined scores (<see cref="BoundaryReliability"/>,
    /// the model's <see cref="RecommendationModel.BoundaryFactor"/> when it was scored, if the record has class
    /// probabilities to take the weight it gives up): 1 unless measured lower.
    /// </summary>
    public double BoundaryFactor { get; init; } = 1;

    /// <summary>The signal of kind <paramref name="kind"/>, or null when the record lacks it.</summary>
    public SignalScore? Signal(SignalKind kind)
    {
        foreach (var signal in Signals)
        {
            if (signal.Kind == kind)
            {
                return signal;
            }
        }

        return null;
    }

    private static Half[] Narrow(ReadOnlySpan<float> values)
    {
        var narrow = new Half[values.Length];
        System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(values, narrow);
        return narrow;
    }

    private static float[] Widen(Half[] values)
    {
        var wide = new float[values.Length];
        System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(values, wide);
        return wide;
    }
}
