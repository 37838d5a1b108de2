using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>
/// Reads the JSON columns <see cref="ScoreCodec"/> writes (<c>signals</c>, <c>measurement</c>) in one forward pass of a
/// <see cref="Utf8JsonReader"/>, without building a document. A restart reads every stored row of every set back before
/// it serves a ranking: at 1.44 million rows (about 1,200 characters of JSON each) parsing them into a
/// <see cref="JsonDocument"/> and looking the properties up took about two thirds of the read-back (<c>recs-readback</c>).
/// Properties it does not know are skipped, so rows written by a later version still read; a row that lacks a required
/// property, names an unknown signal or is not JSON fails with a <see cref="JsonException"/> that says which.
/// </summary>
internal static class StoredScoreJson
{
    // Wire names as UTF-8, compared in place (no string a signal).
    private static readonly (byte[] Name, SignalKind Kind)[] Kinds =
        [.. Enum.GetValues<SignalKind>().Select(k => (Encoding.UTF8.GetBytes(k.ToWireName()), k))];

    /// <summary>Reads a <c>signals</c> column: the signals in stored order, the production-shift lead and the boundary factor (1 when absent).</summary>
    public static SignalScore[] ReadSignals(string json, out double? shiftLeadSurprise, out double boundaryFactor)
    {
        ArgumentNullException.ThrowIfNull(json);
        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(json.Length));
        try
        {
            var reader = new Utf8JsonReader(rented.AsSpan(0, Encoding.UTF8.GetBytes(json, rented)));
            return ReadSignals(ref reader, out shiftLeadSurprise, out boundaryFactor);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Reads a <c>measurement</c> column; with <paramref name="strings"/>, its class names are shared with earlier rows'.</summary>
    public static EmbeddingMeasurement ReadMeasurement(string json, RepeatedStrings? strings = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(json.Length));
        try
        {
            var reader = new Utf8JsonReader(rented.AsSpan(0, Encoding.UTF8.GetBytes(json, rented)));
            return ReadMeasurement(ref reader, strings);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static SignalScore[] ReadSignals(ref Utf8JsonReader reader, out double? shiftLeadSurprise, out double boundaryFactor)
    {
        shiftLeadSurprise = null;
        boundaryFactor = 1;
        Expect(ref reader, JsonTokenType.StartArray, "the signals");
        // At most one of each kind in a row this version wrote; more (a later version's) grow the array.
        var signals = new SignalScore[Kinds.Length];
        var count = 0;
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new JsonException($"A stored signal is a {reader.TokenType}, not an object.");
            }

            SignalKind? kind = null;
            double? value = null, percentile = null, p = null, lead = null, factor = null;
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("signal"u8))
                {
                    Next(ref reader);
                    kind = Kind(ref reader);
                }
                else if (reader.ValueTextEquals("value"u8))
                {
                    value = Double(ref reader);
                }
                else if (reader.ValueTextEquals("percentile"u8))
                {
                    percentile = Double(ref reader);
                }
                else if (reader.ValueTextEquals("p"u8))
                {
                    p = Double(ref reader);
                }
                else if (reader.ValueTextEquals("lead"u8))
                {
                    lead = Double(ref reader);
                }
                else if (reader.ValueTextEquals("factor"u8))
                {
                    factor = Double(ref reader);
                }
                else
                {
                    Next(ref reader);
                    reader.Skip();
                }
            }

            if (kind is not { } k || value is not { } v || percentile is not { } pct || p is not { } pv)
            {
                throw new JsonException("A stored signal lacks one of \"signal\", \"value\", \"percentile\" and \"p\".");
            }

            if (count == signals.Length)
            {
                Array.Resize(ref signals, count * 2);
            }

            signals[count++] = new SignalScore(k, v, pct, pv);
            if (k == SignalKind.ProductionShift && lead is not null)
            {
                shiftLeadSurprise = lead;
            }

            if (k == SignalKind.Boundary && factor is { } f)
            {
                boundaryFactor = f;
            }
        }

        return count == signals.Length ? signals : signals[..count];
    }

    private static EmbeddingMeasurement ReadMeasurement(ref Utf8JsonReader reader, RepeatedStrings? strings)
    {
        Expect(ref reader, JsonTokenType.StartObject, "the measurement");
        double? mahalanobis = null, knnDistance = null, disagreement = null, relative = null, nearestTraining = null, shortfall = null;
        string? nearestClass = null, otherClass = null;
        int? neighbors = null, otherCount = null;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("mahalanobis"u8))
            {
                mahalanobis = Double(ref reader);
            }
            else if (reader.ValueTextEquals("relative_mahalanobis"u8))
            {
                relative = Double(ref reader);
            }
            else if (reader.ValueTextEquals("nearest_training_distance"u8))
            {
                nearestTraining = Double(ref reader);
            }
            else if (reader.ValueTextEquals("norm_shortfall"u8))
            {
                shortfall = Double(ref reader);
            }
            else if (reader.ValueTextEquals("nearest_class"u8))
            {
                nearestClass = String(ref reader, strings);
            }
            else if (reader.ValueTextEquals("knn_distance"u8))
            {
                knnDistance = Double(ref reader);
            }
            else if (reader.ValueTextEquals("disagreement"u8))
            {
                disagreement = Double(ref reader);
            }
            else if (reader.ValueTextEquals("neighbors"u8))
            {
                neighbors = Int(ref reader);
            }
            else if (reader.ValueTextEquals("other_class"u8))
            {
                otherClass = String(ref reader, strings);
            }
            else if (reader.ValueTextEquals("other_count"u8))
            {
                otherCount = Int(ref reader);
            }
            else
            {
                Next(ref reader);
                reader.Skip();
            }
        }

        if (mahalanobis is not { } distance || nearestClass is null || knnDistance is not { } knn || disagreement is not { } share || neighbors is not { } count
            || (otherClass is not null && otherCount is null))
        {
            throw new JsonException(
                "A stored measurement lacks one of \"mahalanobis\", \"nearest_class\", \"knn_distance\", \"disagreement\" and \"neighbors\" (or \"other_count\" beside \"other_class\").");
        }

        return new EmbeddingMeasurement(distance, nearestClass, new NeighborSignals(knn, share, count, otherClass, otherClass is null ? 0 : otherCount!.Value))
        {
            RelativeMahalanobis = relative,
            NearestTrainingDistance = nearestTraining,
            NormShortfall = shortfall,
        };
    }

    private static SignalKind Kind(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            foreach (var (name, kind) in Kinds)
            {
                if (reader.ValueTextEquals(name))
                {
                    return kind;
                }
            }
        }

        throw new JsonException($"A stored signal names an unknown kind: {(reader.TokenType == JsonTokenType.String ? reader.GetString() : reader.TokenType.ToString())}.");
    }

    // A number, or the string ScoreCodec writes for a value JSON has no number for ("Infinity", "-Infinity", "NaN").
    private static double Double(ref Utf8JsonReader reader) =>
        Next(ref reader) == JsonTokenType.String
            ? double.Parse(reader.GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture)
            : reader.GetDouble();

    private static int Int(ref Utf8JsonReader reader)
    {
        Next(ref reader);
        return reader.GetInt32();
    }

    private static string String(ref Utf8JsonReader reader, RepeatedStrings? strings)
    {
        Next(ref reader);
        var value = reader.GetString() ?? throw new JsonException("A stored class name is null.");
        return strings?.Share(value) ?? value;
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType token, string what)
    {
        if (Next(ref reader) != token)
        {
            throw new JsonException($"Stored JSON for {what} starts with {reader.TokenType}, not {token}.");
        }
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader) =>
        reader.Read() ? reader.TokenType : throw new JsonException("Stored JSON ends early.");
}
