using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Chroma.Server.Storage;

namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>
/// Writes a <see cref="ScoredRecord"/> into the JSON columns of <c>record_scores</c> and rebuilds it
/// from them plus the record's own columns (embedding, prediction, probabilities), so a restarted
/// server ranks and explains exactly as before without refitting. Never fails on a non-finite value (an overflowed
/// distance of a record stored before values of 2^50 or more were refused): JSON has no number for one, so it is
/// written as the string <c>"Infinity"</c>, <c>"-Infinity"</c> or <c>"NaN"</c> and read back as that value.
/// </summary>
internal static class ScoreCodec
{
    /// <summary>The row to store for <paramref name="record"/> (score and reasons under the balanced strategy).</summary>
    public static RecordScoreRow ToRow(long sequence, ScoredRecord record) =>
        new(
            sequence,
            StorableScore(SignalCombiner.Score(record, RecommendationStrategy.Balanced)),
            WriteSignals(record.Signals, record.ShiftLeadSurprise, record.BoundaryFactor),
            Write(w =>
            {
                w.WriteStartArray();
                foreach (var reason in ReasonWriter.Write(record, RecommendationStrategy.Balanced))
                {
                    w.WriteStringValue(reason);
                }

                w.WriteEndArray();
            }),
            WriteMeasurement(record.Measurement));

    /// <summary>
    /// Rebuilds the scored record of a stored row; with <paramref name="strings"/>, its training version and class names
    /// are shared with the rows rebuilt before it.
    /// </summary>
    public static ScoredRecord FromStored(PersistedScore stored, RepeatedStrings? strings = null)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var record = stored.Record;
        var unit = new float[record.Embedding.Length];
        UnitVectors.Normalize(record.Embedding, unit);
        var probabilities = UsableProbabilities(record.Probabilities);
        return new ScoredRecord(
            record.Id,
            strings?.Share(stored.TrainingVersion) ?? stored.TrainingVersion,
            unit,
            strings?.Share(record.PredictedClass) ?? record.PredictedClass,
            StoredScoreJson.ReadMeasurement(stored.MeasurementJson, strings),
            probabilities is null ? null : PredictionUncertainty.From(probabilities),
            StoredScoreJson.ReadSignals(stored.SignalsJson, out var shiftLeadSurprise, out var boundaryFactor))
        {
            Probabilities = probabilities,
            ShiftLeadSurprise = shiftLeadSurprise,
            BoundaryFactor = boundaryFactor,
        };
    }

    /// <summary>The probabilities when the engine can use them (non-empty, finite, non-negative, positive sum), else null.</summary>
    public static float[]? UsableProbabilities(float[]? probabilities)
    {
        if (probabilities is null || probabilities.Length == 0)
        {
            return null;
        }

        double total = 0;
        foreach (var p in probabilities)
        {
            if (!float.IsFinite(p) || p < 0)
            {
                return null;
            }

            total += p;
        }

        return total > 0 ? probabilities : null;
    }

    // The production-shift signal's entry also carries the lead's surprise ("lead", against the stream's bulk) when the
    // record has one; rows stored before it have none, and the signal's own surprise then leads. The boundary signal's
    // entry carries its factor ("factor", BoundaryReliability) when below 1; rows without it read as 1.
    private static string WriteSignals(IReadOnlyList<SignalScore> signals, double? shiftLeadSurprise, double boundaryFactor) => Write(w =>
    {
        w.WriteStartArray();
        foreach (var signal in signals)
        {
            w.WriteStartObject();
            w.WriteString("signal", signal.Kind.ToWireName());
            WriteDouble(w, "value", signal.Value);
            WriteDouble(w, "percentile", signal.Percentile);
            WriteDouble(w, "p", signal.PValue);
            if (signal.Kind == SignalKind.ProductionShift && shiftLeadSurprise is { } lead)
            {
                WriteDouble(w, "lead", lead);
            }

            if (signal.Kind == SignalKind.Boundary && boundaryFactor < 1)
            {
                WriteDouble(w, "factor", boundaryFactor);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
    });

    private static string WriteMeasurement(EmbeddingMeasurement m) => Write(w =>
    {
        w.WriteStartObject();
        WriteDouble(w, "mahalanobis", m.MahalanobisDistance);
        if (m.RelativeMahalanobis is { } relative && double.IsFinite(relative))
        {
            w.WriteNumber("relative_mahalanobis", relative);
        }

        if (m.NearestTrainingDistance is { } nearestTraining && double.IsFinite(nearestTraining))
        {
            w.WriteNumber("nearest_training_distance", nearestTraining);
        }

        if (m.NormShortfall is { } shortfall && double.IsFinite(shortfall))
        {
            w.WriteNumber("norm_shortfall", shortfall);
        }

        w.WriteString("nearest_class", m.NearestClass);
        WriteDouble(w, "knn_distance", m.Neighbors.MeanDistance);
        WriteDouble(w, "disagreement", m.Neighbors.Disagreement);
        w.WriteNumber("neighbors", m.Neighbors.NeighborCount);
        if (m.Neighbors.DominantOtherClass is { } other)
        {
            w.WriteString("other_class", other);
            w.WriteNumber("other_count", m.Neighbors.DominantOtherCount);
        }

        w.WriteEndObject();
    });

    // The score column is REAL NOT NULL: SQLite stores NaN as NULL. A combined score is finite (every p is at least
    // double.Epsilon), so this only guards the row against a future signal that is not.
    private static double StorableScore(double score) =>
        double.IsNaN(score) ? 0 : Math.Clamp(score, double.MinValue, double.MaxValue);

    private static void WriteDouble(Utf8JsonWriter writer, string name, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumber(name, value);
        }
        else
        {
            writer.WriteString(name, value.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static string Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
