using Chroma.Internal;
using Chroma.Protocol.V1;

namespace Chroma.Batching;

/// <summary>Turns a queued record into its wire form, or says why the server would reject it.</summary>
internal static class RecordConverter
{
    /// <summary>The server's bound on embedding values, exclusive (2^50): larger ones would overflow squared distances.</summary>
    internal const float MaxEmbeddingMagnitude = 1_125_899_906_842_624f;

    /// <summary>Returns the wire record, or <see langword="null"/> with a problem kind when the record is invalid.</summary>
    public static Record? TryConvert(in PendingRecord pending, out string? problem)
    {
        var embedding = pending.EmbeddingSpan;
        if (FirstOutOfRange(embedding) is { } bad)
        {
            // The server refuses the whole batch for one such value: drop just this record.
            problem = float.IsFinite(bad)
                ? "embedding has a value of magnitude 2^50 (about 1.1e15) or more"
                : "embedding contains NaN or infinity";
            return null;
        }

        var probabilities = pending.ProbabilitiesSpan;
        if (!AllFinite(probabilities))
        {
            problem = "class probabilities contain NaN or infinity";
            return null;
        }

        if (!ReferenceEquals(pending.Dataset, ChromaDatasets.Training)
            && !ReferenceEquals(pending.Dataset, ChromaDatasets.Production)
            && !EmbeddingSetDescriptor.IsValidName(pending.Dataset, 64))
        {
            problem = "dataset name is not 1-64 characters of [A-Za-z0-9_.-]";
            return null;
        }

        var record = new Record
        {
            Id = RecordIds.NewId(pending.TimestampUnixMs),
            Dataset = pending.Dataset,
            InputUri = pending.InputUri ?? string.Empty,
            Label = pending.Label ?? string.Empty,
            TimestampUnixMs = pending.TimestampUnixMs,
        };
        RepeatedFields.Append(record.Embedding, embedding);

        if (pending.PredictedClass is not null || !probabilities.IsEmpty)
        {
            var inference = new Inference { PredictedClass = pending.PredictedClass ?? string.Empty };
            RepeatedFields.Append(inference.ClassProbabilities, probabilities);
            var names = pending.Set.ClassNames;
            if (names is not null && names.Count == probabilities.Length)
            {
                inference.ClassNames.AddRange(names);
            }

            record.Inference = inference;
        }

        if (pending.Metadata is { } metadata)
        {
            foreach (var (key, value) in metadata)
            {
                if (key is null || value is null)
                {
                    problem = "metadata has a null key or value";
                    return null;
                }

                record.Metadata[key] = value;
            }
        }

        problem = null;
        return record;
    }

    // The first value that is NaN, infinite or not below MaxEmbeddingMagnitude in magnitude, or null: one pass.
    private static float? FirstOutOfRange(ReadOnlySpan<float> values)
    {
        foreach (var value in values)
        {
            if (!(Math.Abs(value) < MaxEmbeddingMagnitude))
            {
                return value;
            }
        }

        return null;
    }

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (var value in values)
        {
            if (!float.IsFinite(value))
            {
                return false;
            }
        }

        return true;
    }
}
