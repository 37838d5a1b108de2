using System.Data.Common;
using System.Globalization;
using Chroma.Protocol.V1;
using Chroma.Server.Indexing.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Validation;

namespace Chroma.Server.Indexing;

/// <summary>
/// Which stored records an index takes in. Ingest refuses what an index cannot take (NaN, infinity, an all-zero vector
/// in a cosine set), so this only meets records stored before a check existed or by a provider that skipped it; one
/// such record must not stop the set's whole index (outside-in probe F1: every load failed on it, and every
/// FindNearest of the set with it). It is left out, counted and logged by id; it stays stored.
/// </summary>
internal sealed partial class EmbeddingSetIndexes
{
    private long _recordsSkipped;

    /// <summary>Gets how many stored records the indexes left out since start because no index can take their vector.</summary>
    public long RecordsSkipped => Interlocked.Read(ref _recordsSkipped);

    /// <summary>
    /// Whether the index of <paramref name="set"/> can take <paramref name="vector"/>; when not, adds the record
    /// (<paramref name="sequence"/>) and why to <paramref name="skipped"/>, for <see cref="LogSkipped"/> once the store's
    /// read is over (the record's id is read from the store then).
    /// </summary>
    private static bool Admits(StoredEmbeddingSet set, long sequence, ReadOnlySpan<float> vector, ref List<(long Sequence, string Problem)>? skipped)
    {
        string problem;
        if (FiniteValues.IndexOfNonFinite(vector) is var bad and >= 0)
        {
            problem = string.Create(CultureInfo.InvariantCulture, $"embedding[{bad}] is {vector[bad]}");
        }
        else if (set.Metric == DistanceMetric.Cosine && !UnitVector.HasDirection(vector))
        {
            problem = "its embedding is all zeros, which has no direction under the cosine metric";
        }
        else
        {
            return true;
        }

        (skipped ??= []).Add((sequence, problem));
        return false;
    }

    /// <summary>Counts and logs, by record id, the records <see cref="Admits"/> left out (nothing when none).</summary>
    private void LogSkipped(StoredEmbeddingSet set, List<(long Sequence, string Problem)>? skipped)
    {
        foreach (var (sequence, problem) in skipped ?? [])
        {
            Interlocked.Increment(ref _recordsSkipped);
            IndexingLog.RecordSkipped(_logger, set.SetId, RecordIdOf(set, sequence), sequence, problem);
        }
    }

    /// <summary><paramref name="changes"/> without the inserts the index cannot take (the same page when it takes all).</summary>
    private RecordChangePage Admitted(StoredEmbeddingSet set, RecordChangePage changes)
    {
        var dimension = set.Dimension;
        List<int>? kept = null;
        List<(long Sequence, string Problem)>? skipped = null;
        for (var i = 0; i < changes.Sequences.Length; i++)
        {
            var admitted = Admits(set, changes.Sequences[i], changes.Vectors.AsSpan(i * dimension, dimension), ref skipped);
            if (!admitted && kept is null)
            {
                kept = [.. Enumerable.Range(0, i)];
            }
            else if (admitted)
            {
                kept?.Add(i);
            }
        }

        if (kept is null)
        {
            return changes;
        }

        LogSkipped(set, skipped);

        var vectors = new float[kept.Count * dimension];
        for (var k = 0; k < kept.Count; k++)
        {
            changes.Vectors.AsSpan(kept[k] * dimension, dimension).CopyTo(vectors.AsSpan(k * dimension, dimension));
        }

        return changes with
        {
            Sequences = [.. kept.Select(i => changes.Sequences[i])],
            Vectors = vectors,
            Datasets = [.. kept.Select(i => changes.Datasets[i])],
        };
    }

    /// <summary>The id of the record stored at <paramref name="sequence"/>, for the log; the sequence when it cannot be read.</summary>
    private string RecordIdOf(StoredEmbeddingSet set, long sequence)
    {
        try
        {
            return _store.GetRecordsBySequence(set, [sequence], includeEmbeddings: false) is [var stored, ..]
                ? stored.Record.Id
                : $"(at sequence {sequence})";
        }
        catch (DbException)
        {
            return $"(at sequence {sequence})";
        }
    }
}
