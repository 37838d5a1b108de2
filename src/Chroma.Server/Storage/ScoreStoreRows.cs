using System.Globalization;

namespace Chroma.Server.Storage;

/// <summary>Identifies the live training records of a set: any insert or delete changes it.</summary>
/// <param name="Count">Live training records.</param>
/// <param name="MaxSequence">Their highest sequence (0 when none).</param>
/// <param name="SequenceSum">The sum of their sequences (a delete lowers it even when an insert restores the count).</param>
internal readonly record struct TrainingFingerprint(long Count, long MaxSequence, long SequenceSum)
{
    /// <summary>
    /// Gets the text form the engine uses as its training version. It ends with <see cref="ScoringScheme"/>, so scores
    /// stored by a server that computed the signals differently read back as stale and are rescored.
    /// </summary>
    public string Version => string.Create(CultureInfo.InvariantCulture, $"{Count}-{MaxSequence}-{SequenceSum}-{ScoringScheme}");

    /// <summary>
    /// Names how signals are computed: "m6" = as "m5" with copies of a training record (exact, or near within the
    /// near-duplicate threshold) held out together and kept in one production-shift fold (only sets whose training
    /// data repeats rows score differently), records in the neighbour signals' tail searched a second time
    /// (<c>Recommendations.NeighborRefinement</c>), and the held-out training rows' boundary (and feature-norm) signals
    /// read against the model's predicted class for each where the training records carry one, as production records'
    /// are (was their label); "m5" = as "m4" with a one-hidden-layer network as the production-shift classifier
    /// (was logistic regression); "m4" = as "m3" plus the production-shift signal (a model version may then carry a
    /// production part, <c>Recommendations.ModelVersion</c>); "m3" = as "m2" plus the feature-norm signal; "m2" = the neighbour signals search
    /// every training row under the set's metric (issue 13); versions without it came from the unit-vector search over
    /// the fitted rows.
    /// </summary>
    public const string ScoringScheme = "m6";
}

/// <summary>Labelled training rows, row-major.</summary>
/// <param name="Embeddings">Row-major embeddings, one row per label.</param>
/// <param name="Labels">One label per row.</param>
/// <param name="Fingerprint">The fingerprint of the snapshot the rows were read from.</param>
internal sealed record TrainingRows(float[] Embeddings, IReadOnlyList<string> Labels, TrainingFingerprint Fingerprint)
{
    /// <summary>Gets the class probabilities logged with each row (null entries where none were), or null when the store did not read them.</summary>
    public IReadOnlyList<float[]?>? Probabilities { get; init; }

    /// <summary>
    /// Gets the class the model predicted for each row (its <c>predicted_class</c>, else its probabilities' largest named
    /// by its class names; null entries where neither was logged), or null when the store did not read them.
    /// </summary>
    public IReadOnlyList<string?>? PredictedClasses { get; init; }
}

/// <summary>A stored record the engine can score.</summary>
/// <param name="Sequence">Store sequence.</param>
/// <param name="Id">Record id.</param>
/// <param name="Dataset">Dataset (never <c>training</c>).</param>
/// <param name="Embedding">The embedding.</param>
/// <param name="PredictedClass">The predicted class, or null.</param>
/// <param name="Probabilities">Class probabilities, or null.</param>
internal sealed record ScorableRecord(long Sequence, string Id, string Dataset, float[] Embedding, string? PredictedClass, float[]? Probabilities);

/// <summary>The most recent production embeddings, row-major.</summary>
/// <param name="Embeddings">Row-major embeddings.</param>
/// <param name="Count">Rows.</param>
/// <param name="ThroughSequence">The highest sequence among them (0 when none).</param>
internal sealed record RecentProduction(float[] Embeddings, int Count, long ThroughSequence);

/// <summary>One record's score as written: the combined score and JSON columns.</summary>
/// <param name="Sequence">Store sequence of the scored record.</param>
/// <param name="Score">Combined score under the balanced strategy.</param>
/// <param name="SignalsJson">Every signal (kind, value, percentile, p-value).</param>
/// <param name="ReasonsJson">Reasons under the balanced strategy.</param>
/// <param name="MeasurementJson">Raw measurements the reasons are written from.</param>
internal sealed record RecordScoreRow(long Sequence, double Score, string SignalsJson, string ReasonsJson, string MeasurementJson);

/// <summary>A stored score with the columns of its record.</summary>
/// <param name="Record">The scored record.</param>
/// <param name="TrainingVersion">The training version it was scored under.</param>
/// <param name="SignalsJson">Its signals.</param>
/// <param name="MeasurementJson">Its raw measurements.</param>
/// <param name="ScoredUnixMs">When it was stored.</param>
internal sealed record PersistedScore(ScorableRecord Record, string TrainingVersion, string SignalsJson, string MeasurementJson, long ScoredUnixMs);

/// <summary>One drift measurement of a set.</summary>
/// <param name="ComputedUnixMs">When it was measured.</param>
/// <param name="Mmd2">Unbiased squared MMD.</param>
/// <param name="PValue">Permutation p-value.</param>
/// <param name="TrainingSample">Training records compared.</param>
/// <param name="ProductionSample">Production records compared.</param>
/// <param name="ThroughSequence">Highest production sequence covered.</param>
internal sealed record DriftPoint(long ComputedUnixMs, double Mmd2, double PValue, int TrainingSample, int ProductionSample, long ThroughSequence);
