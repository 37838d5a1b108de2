using Chroma.Server.Storage;
using Chroma.Server.Validation;

namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>
/// Leaves out of the engine's reads the records whose embedding has a value the server now refuses at ingest (NaN,
/// infinite, or <see cref="FiniteValues.MaxEmbeddingMagnitude"/> = 2^50 or more in magnitude). A database written by an
/// older server may hold such records; their squared distances overflow to infinity, which would skew a fit, fail the
/// storing of a score or drift point, and rank them above everything. The scoring pass counts and logs what it leaves out.
/// </summary>
internal static class OversizedEmbeddings
{
    /// <summary>Whether <paramref name="embedding"/> has a value the server refuses at ingest.</summary>
    public static bool IsOversized(ReadOnlySpan<float> embedding) => FiniteValues.IndexOfOutOfRange(embedding) >= 0;

    /// <summary><paramref name="records"/> without the oversized ones (the same list when there are none), and how many were left out.</summary>
    public static (IReadOnlyList<ScorableRecord> Records, int LeftOut) Without(IReadOnlyList<ScorableRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var leftOut = records.Count(r => IsOversized(r.Embedding));
        return leftOut == 0 ? (records, 0) : ([.. records.Where(r => !IsOversized(r.Embedding))], leftOut);
    }

    /// <summary><paramref name="training"/> without its oversized rows (the same rows when there are none), and how many were left out.</summary>
    public static (TrainingRows Rows, int LeftOut) Without(TrainingRows training, int dimension)
    {
        ArgumentNullException.ThrowIfNull(training);
        var keep = KeptRows(training.Embeddings, training.Labels.Count, dimension);
        if (keep is null)
        {
            return (training, 0);
        }

        var probabilities = training.Probabilities;
        var predicted = training.PredictedClasses;
        var rows = new TrainingRows(Copy(training.Embeddings, keep, dimension), [.. keep.Select(i => training.Labels[i])], training.Fingerprint)
        {
            Probabilities = probabilities is null ? null : [.. keep.Select(i => probabilities[i])],
            PredictedClasses = predicted is null ? null : [.. keep.Select(i => predicted[i])],
        };
        return (rows, training.Labels.Count - keep.Count);
    }

    /// <summary><paramref name="recent"/> without its oversized rows (the same rows when there are none).</summary>
    public static RecentProduction Without(RecentProduction recent, int dimension)
    {
        ArgumentNullException.ThrowIfNull(recent);
        var keep = KeptRows(recent.Embeddings, recent.Count, dimension);
        return keep is null ? recent : new RecentProduction(Copy(recent.Embeddings, keep, dimension), keep.Count, recent.ThroughSequence);
    }

    // The indexes of the rows to keep, or null when every row is kept (the usual case: nothing is copied).
    private static List<int>? KeptRows(float[] embeddings, int rows, int dimension)
    {
        List<int>? keep = null;
        for (var i = 0; i < rows; i++)
        {
            var oversized = IsOversized(embeddings.AsSpan(i * dimension, dimension));
            if (oversized && keep is null)
            {
                keep = [.. Enumerable.Range(0, i)];
            }
            else if (!oversized)
            {
                keep?.Add(i);
            }
        }

        return keep;
    }

    private static float[] Copy(float[] embeddings, List<int> rows, int dimension)
    {
        var copy = new float[rows.Count * dimension];
        for (var i = 0; i < rows.Count; i++)
        {
            embeddings.AsSpan(rows[i] * dimension, dimension).CopyTo(copy.AsSpan(i * dimension, dimension));
        }

        return copy;
    }
}
