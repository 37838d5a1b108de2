using Chroma.Server.Background;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Scores production records against a fitted <see cref="RecommendationModel"/>: every signal per
/// record, raw and calibrated. Records are scored independently, in chunks of
/// <see cref="RecordsPerChunk"/> on a <see cref="BackgroundWorkLimiter"/>'s threads, so the server
/// scores each new batch once and keeps the results until the model changes, and a large batch
/// never holds every thread for longer than one chunk.
/// </summary>
internal static class RecommendationScorer
{
    /// <summary>Records per chunk of work: about 10-50 ms of searches, so other work waits at most that long for a thread.</summary>
    public const int RecordsPerChunk = 256;

    /// <summary>Floor of the fallback probability-signal p-values (no training probabilities), so a probability of exactly 0 or 1 stays finite.</summary>
    private const double MinimumProbabilityPValue = 1e-6;

    /// <summary>Scores every record of <paramref name="batch"/>.</summary>
    /// <exception cref="ArgumentException">The batch dimension differs from the model's.</exception>
    public static ScoredRecord[] Score(
        RecommendationModel model, ProductionBatch batch, BackgroundWorkLimiter? limiter = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Dimension != model.Dimension)
        {
            throw new ArgumentException($"batch dimension {batch.Dimension} differs from the model's {model.Dimension}.", nameof(batch));
        }

        var d = batch.Dimension;
        limiter ??= BackgroundWorkLimiter.Shared;
        var units = UnitVectors.NormalizeRows(batch.Embeddings, d, limiter);
        var mahalanobis = model.CalibratorFor(SignalKind.Mahalanobis);
        var relative = model.HasClasses ? model.CalibratorFor(SignalKind.RelativeMahalanobis) : null;
        var featureNorm = model.FeatureNormCalibrator;
        var knn = model.CalibratorFor(SignalKind.KnnDistance);
        var boundary = model.HasClasses ? model.CalibratorFor(SignalKind.Boundary) : null;
        var entropy = model.UncertaintyCalibratorFor(SignalKind.Entropy);
        var margin = model.UncertaintyCalibratorFor(SignalKind.Margin);
        var leastConfidence = model.UncertaintyCalibratorFor(SignalKind.LeastConfidence);
        var shift = model.ProductionShift is { Joins: true } joined ? joined : null;
        var results = new ScoredRecord[batch.Count];
        limiter.For(0, batch.Count, RecordsPerChunk, (start, end) =>
        {
            var measurements = new EmbeddingMeasurement[end - start];
            model.MeasureMany(
                batch.Embeddings.Span.Slice(start * d, (end - start) * d), units.AsSpan(start * d, (end - start) * d), j => batch.PredictedClass(start + j), measurements);
            for (var i = start; i < end; i++)
            {
                var unit = new ReadOnlyMemory<float>(units, i * d, d);
                var predicted = batch.PredictedClass(i);
                var measurement = measurements[i - start];
                var signals = new List<SignalScore>(9)
                {
                    mahalanobis.Calibrate(SignalKind.Mahalanobis, measurement.MahalanobisDistance),
                    knn.Calibrate(SignalKind.KnnDistance, measurement.Neighbors.MeanDistance),
                };
                if (boundary is not null)
                {
                    signals.Add(boundary.Calibrate(SignalKind.Boundary, measurement.Neighbors.Disagreement));
                }

                PredictionUncertainty? uncertainty = null;
                if (batch.ProbabilitiesOf(i) is { } probabilities)
                {
                    var u = PredictionUncertainty.From(probabilities);
                    uncertainty = u;
                    signals.Add(entropy?.Calibrate(SignalKind.Entropy, u.Entropy) ?? Normalized(SignalKind.Entropy, u.Entropy, u.NormalizedEntropy));
                    signals.Add(margin?.Calibrate(SignalKind.Margin, u.Margin) ?? Normalized(SignalKind.Margin, u.Margin, u.Margin));
                    signals.Add(leastConfidence?.Calibrate(SignalKind.LeastConfidence, u.LeastConfidence)
                        ?? Normalized(SignalKind.LeastConfidence, u.LeastConfidence, u.NormalizedLeastConfidence));
                }

                if (relative is not null && measurement.RelativeMahalanobis is { } relativeDistance)
                {
                    signals.Add(relative.Calibrate(SignalKind.RelativeMahalanobis, relativeDistance));
                }

                if (featureNorm is not null && measurement.NormShortfall is { } shortfall)
                {
                    signals.Add(featureNorm.Calibrate(SignalKind.FeatureNorm, shortfall));
                }

                double? leadSurprise = null;
                if (shift is not null)
                {
                    // By the model of the record's own fold: one that never saw it, whether or not it is in the sample.
                    var logit = shift.Classifier.Score(batch.Row(i), batch.ProbabilitiesOf(i), ProductionShiftClassifier.FoldOf(batch.Ids[i]));
                    if (double.IsFinite(logit))
                    {
                        signals.Add(shift.Calibrator.Calibrate(SignalKind.ProductionShift, logit));
                        leadSurprise = shift.LeadSurprise(logit);
                    }
                }

                results[i] = new ScoredRecord(batch.Ids[i], model.TrainingVersion, unit, predicted, measurement, uncertainty, signals.ToArray())
                {
                    Probabilities = uncertainty is null ? null : batch.ProbabilitiesOf(i),
                    ShiftLeadSurprise = leadSurprise,
                    // Without probabilities the boundary is the record's only uncertainty evidence: nothing takes its weight.
                    BoundaryFactor = boundary is null || uncertainty is null ? 1 : model.BoundaryFactor,
                };
            }
        }, cancellationToken);

        return results;
    }

    private static SignalScore Normalized(SignalKind kind, double value, double normalized) =>
        new(kind, value, normalized, Math.Max(MinimumProbabilityPValue, 1 - normalized));
}
