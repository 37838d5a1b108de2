using Chroma.Internal;
using Chroma.Protocol.V1;

namespace Chroma.Batching;

/// <summary>Turns a queued record into its wire form, or says why the server would reject it.</summary>
internal static class RecordConverter
{
    /// <summary>Returns the wire record, or <see langword="null"/> with a problem kind when the record is invalid.</summary>
    public static Record? TryConvert(in PendingRecord pending, out string? problem)
    {
        var embedding = pending.EmbeddingSpan;
        var probabilities = pending.ProbabilitiesSpan;
        if (RecordValueCheck.Problem(embedding, probabilities, pending.Dataset) is { } valueProblem)
        {
            // Checked when logged as well; the server refuses the whole batch for one such value: drop just this record.
            problem = valueProblem;
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
            if (names is not null && names.Count == probabilities.Length) // a count mismatch is refused when logged
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
                    // Refused when logged (the queued copy is the checked one); kept so a bad record never throws here.
                    problem = "metadata has a null key or value";
                    return null;
                }

                record.Metadata[key] = value;
            }
        }

        problem = null;
        return record;
    }
}
