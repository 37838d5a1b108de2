using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Storage;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

public class ScoreCodecTests
{
    [Test]
    public void FromStored_RowWrittenByToRow_KeepsTheNearestTrainingDistance()
    {
        var record = Record(new EmbeddingMeasurement(2.5, "7", new NeighborSignals(0.3, 0.1, 10, "2", 1)) { NearestTrainingDistance = 0.42 });

        var row = ScoreCodec.ToRow(5, record);
        var restored = ScoreCodec.FromStored(new PersistedScore(new ScorableRecord(5, "r1", "production", [3, 4], "3", null), "v1", row.SignalsJson, row.MeasurementJson, 0));

        Assert.That(restored.Measurement, Is.EqualTo(record.Measurement));
    }

    [Test]
    public void FromStored_RowWithoutNearestTrainingDistance_ReadsItAsUnmeasured()
    {
        var record = Record(new EmbeddingMeasurement(2.5, "7", new NeighborSignals(0.3, 0.1, 10, "2", 1)));

        var row = ScoreCodec.ToRow(5, record);
        var restored = ScoreCodec.FromStored(new PersistedScore(new ScorableRecord(5, "r1", "production", [3, 4], "3", null), "v1", row.SignalsJson, row.MeasurementJson, 0));

        Assert.Multiple(() =>
        {
            Assert.That(row.MeasurementJson, Does.Not.Contain("nearest_training_distance"), "rows scored before the field existed look like this");
            Assert.That(restored.Measurement.NearestTrainingDistance, Is.Null);
        });
    }

    [Test]
    public void ToRow_OverflowedDistances_WritesTheRowAndReadsTheSameValuesBack()
    {
        // Before: Utf8JsonWriter refused infinity, so one record with an overflowed distance failed its set's whole pass.
        var measurement = new EmbeddingMeasurement(double.PositiveInfinity, "7", new NeighborSignals(double.PositiveInfinity, double.NaN, 10, "2", 1));
        var record = new ScoredRecord("r1", "v1", new float[] { 0.6f, 0.8f }, "3", measurement, null,
            [new(SignalKind.Mahalanobis, double.PositiveInfinity, 1, double.Epsilon), new(SignalKind.KnnDistance, double.NaN, 1, 0.5), new(SignalKind.Boundary, double.NegativeInfinity, 0, 1)]);

        var row = ScoreCodec.ToRow(5, record);
        var restored = ScoreCodec.FromStored(new PersistedScore(new ScorableRecord(5, "r1", "production", [3, 4], "3", null), "v1", row.SignalsJson, row.MeasurementJson, 0));

        Assert.Multiple(() =>
        {
            Assert.That(double.IsFinite(row.Score), Is.True, "the score column holds a number");
            Assert.That(restored.Signals.Select(s => s.Value), Is.EqualTo(new[] { double.PositiveInfinity, double.NaN, double.NegativeInfinity }));
            Assert.That(restored.Signals.Select(s => s.PValue), Is.EqualTo(new[] { double.Epsilon, 0.5, 1 }));
            Assert.That(restored.Measurement.MahalanobisDistance, Is.EqualTo(double.PositiveInfinity));
            Assert.That(restored.Measurement.Neighbors.MeanDistance, Is.EqualTo(double.PositiveInfinity));
            Assert.That(restored.Measurement.Neighbors.Disagreement, Is.NaN);
        });
    }

    [Test]
    public void FromStored_RowWithAShiftLeadSurprise_ReadsItBackAndTheStoredScoreUsesIt()
    {
        // The signal's own surprise (against training) is 4, the lead's (against the stream's bulk) 1.5.
        SignalScore[] signals = [new(SignalKind.Mahalanobis, 2.5, 0.5, 0.5), new(SignalKind.KnnDistance, 0.3, 0.5, 0.5), new(SignalKind.ProductionShift, 3, 0.9999, 1e-4)];
        var measurement = new EmbeddingMeasurement(2.5, "7", new NeighborSignals(0.3, 0.1, 10, "2", 1));
        var led = new ScoredRecord("r1", "v1", new float[] { 0.6f, 0.8f }, "3", measurement, null, signals) { ShiftLeadSurprise = 1.5 };
        var unled = led with { ShiftLeadSurprise = null };

        var row = ScoreCodec.ToRow(5, led);
        var restored = ScoreCodec.FromStored(new PersistedScore(new ScorableRecord(5, "r1", "production", [3, 4], "3", null), "v1", row.SignalsJson, row.MeasurementJson, 0));
        var rowWithout = ScoreCodec.ToRow(5, unled);
        var restoredWithout = ScoreCodec.FromStored(new PersistedScore(new ScorableRecord(5, "r1", "production", [3, 4], "3", null), "v1", rowWithout.SignalsJson, rowWithout.MeasurementJson, 0));

        Assert.Multiple(() =>
        {
            Assert.That(restored.ShiftLeadSurprise, Is.EqualTo(1.5));
            Assert.That(row.Score, Is.EqualTo(SignalCombiner.Score(signals, RecommendationStrategy.Balanced, 1.5)).Within(1e-9));
            Assert.That(row.Score, Is.LessThan(rowWithout.Score), "the lead against the bulk (1.5) adds less than the signal's own surprise (4)");
            Assert.That(rowWithout.SignalsJson, Does.Not.Contain("\"lead\""), "rows scored before the lead was stored look like this");
            Assert.That(restoredWithout.ShiftLeadSurprise, Is.Null);
            Assert.That(SignalCombiner.Score(restoredWithout, RecommendationStrategy.Balanced), Is.EqualTo(rowWithout.Score).Within(1e-6), "without one, the signal's own surprise leads");
        });
    }

    private static ScoredRecord Record(EmbeddingMeasurement measurement) =>
        new("r1", "v1", new float[] { 0.6f, 0.8f }, "3", measurement, null, [new(SignalKind.Mahalanobis, 2.5, 0.9, 0.1), new(SignalKind.KnnDistance, 0.3, 0.5, 0.5)]);
}
