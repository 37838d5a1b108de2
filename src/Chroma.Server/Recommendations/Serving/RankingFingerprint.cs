using System.Numerics;
using System.Runtime.CompilerServices;
using Chroma.Server.Labeling;
using Chroma.Server.Recommendations.Scheduling;

namespace Chroma.Server.Recommendations.Serving;

/// <summary>
/// A 64-bit fingerprint of what a ranking is cut from: the published scores (every entry's sequence, dataset, predicted
/// class and signals, and the training version) and the reviewed records it leaves out. It depends on the content
/// only, so replicas on one database that serve the same stored pass give it the same fingerprint although each
/// counts its own publications; a page token names its ranking by it, and any replica serving that ranking can serve
/// the next page. Computed on first use, once per published scores (one pass over the entries) and per reviewed snapshot.
/// </summary>
internal static class RankingFingerprint
{
    private const ulong Seed = 0x9E3779B97F4A7C15UL;
    // Keyed by the entries' list: a published snapshot served as stale is a copy (`with`) that shares it.
    private static readonly ConditionalWeakTable<IReadOnlyList<ScoredEntry>, Computed> ScoresCache = [];
    private static readonly ConditionalWeakTable<ReviewedSnapshot, StrongBox<ulong>> ExcludedCache = [];

    /// <summary>The fingerprint of <paramref name="scores"/>.</summary>
    public static ulong Of(SetScores scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        if (ScoresCache.TryGetValue(scores.Entries, out var known) && string.Equals(known.TrainingVersion, scores.TrainingVersion, StringComparison.Ordinal))
        {
            return known.Fingerprint;
        }

        var computed = new Computed(scores.TrainingVersion, Compute(scores));
        ScoresCache.AddOrUpdate(scores.Entries, computed);
        return computed.Fingerprint;
    }

    /// <summary>The fingerprint of the records <paramref name="excluded"/> leaves out (0 for none).</summary>
    public static ulong Of(ReviewedSnapshot? excluded) =>
        excluded is null ? 0 : ExcludedCache.GetValue(excluded, static e => new StrongBox<ulong>(Compute(e.Sequences))).Value;

    /// <summary>The fingerprint of the scores' entries and training version.</summary>
    internal static ulong Compute(SetScores scores)
    {
        var hash = Mix(Seed, (ulong)scores.Entries.Count);
        hash = Mix(hash, scores.TrainingVersion);
        string? lastDataset = null;
        var datasetHash = 0UL;
        foreach (var entry in scores.Entries)
        {
            if (!ReferenceEquals(entry.Dataset, lastDataset))
            {
                lastDataset = entry.Dataset;
                datasetHash = Mix(Seed, entry.Dataset);
            }

            var record = entry.Record;
            hash = Mix(hash, (ulong)entry.Sequence);
            hash = Mix(hash, datasetHash);
            hash = Mix(hash, record.PredictedClass);
            hash = Mix(hash, BitConverter.DoubleToUInt64Bits(record.ShiftLeadSurprise ?? double.NaN));
            hash = Mix(hash, BitConverter.DoubleToUInt64Bits(record.BoundaryFactor));
            foreach (var signal in record.Signals)
            {
                hash = Mix(hash, (ulong)signal.Kind);
                hash = Mix(hash, BitConverter.DoubleToUInt64Bits(signal.Value));
                hash = Mix(hash, BitConverter.DoubleToUInt64Bits(signal.Percentile));
                hash = Mix(hash, BitConverter.DoubleToUInt64Bits(signal.PValue));
            }
        }

        return hash;
    }

    /// <summary>The fingerprint of a set of sequences, whatever order it enumerates them in.</summary>
    internal static ulong Compute(IReadOnlySet<long> sequences)
    {
        ulong sum = 0, xor = 0;
        foreach (var sequence in sequences)
        {
            var mixed = Mix(Seed, (ulong)sequence);
            sum += mixed;
            xor ^= BitOperations.RotateLeft(mixed, 17) * 0xC2B2AE3D27D4EB4FUL;
        }

        // Never 0, which stands for "nothing left out".
        return Mix(Mix(Mix(Seed, (ulong)sequences.Count), sum), xor) | 1;
    }

    /// <summary>One fingerprint of two (<see cref="RankingAnchor.Filtered"/>); order matters.</summary>
    internal static ulong Combine(ulong first, ulong second) => Mix(Mix(Seed, first), second);

    private sealed record Computed(string? TrainingVersion, ulong Fingerprint);

    private static ulong Mix(ulong hash, ulong value)
    {
        hash ^= value * 0x87C37B91114253D5UL;
        hash = BitOperations.RotateLeft(hash, 27) * 0x4CF5AD432745937FUL;
        return hash ^ (hash >> 31);
    }

    private static ulong Mix(ulong hash, string? text)
    {
        if (text is null)
        {
            return Mix(hash, ulong.MaxValue);
        }

        hash = Mix(hash, (ulong)text.Length);
        foreach (var c in text)
        {
            hash = Mix(hash, c);
        }

        return hash;
    }
}
