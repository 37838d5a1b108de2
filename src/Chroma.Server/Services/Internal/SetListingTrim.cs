using Chroma.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.Collections;

namespace Chroma.Server.Services.Internal;

/// <summary>
/// Keeps an unpaged ListSets answer within a size: when the sets as they are would pass it, every set's drift history is
/// cut to its most recent points, as many as fit (the same number for every set, so no set loses its history for
/// another's). Each set's latest measurement (<c>drift</c>) stays.
/// </summary>
internal static class SetListingTrim
{
    /// <summary>Cuts the histories of <paramref name="sets"/> until the answer fits <paramref name="budget"/> bytes; whether it cut any.</summary>
    public static bool Fit(RepeatedField<EmbeddingSetInfo> sets, int budget)
    {
        ArgumentNullException.ThrowIfNull(sets);
        var longest = sets.Count == 0 ? 0 : sets.Max(s => s.DriftHistory.Count);
        if (SizeKeeping(sets, longest) <= budget)
        {
            return false;
        }

        // The most points per set that fit: the size only grows with it, so a binary search over 0..longest.
        var (low, high) = (0, longest - 1);
        while (low < high)
        {
            var middle = (low + high + 1) / 2;
            if (SizeKeeping(sets, middle) <= budget)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        foreach (var set in sets)
        {
            var drop = set.DriftHistory.Count - low;
            for (var i = 0; i < drop; i++)
            {
                set.DriftHistory.RemoveAt(0);
            }
        }

        return true;
    }

    /// <summary>The size of the answer (its sets field) if each set kept at most <paramref name="points"/> recent drift points.</summary>
    internal static long SizeKeeping(IEnumerable<EmbeddingSetInfo> sets, int points)
    {
        long total = 0;
        foreach (var set in sets)
        {
            var history = set.DriftHistory;
            long historySize = 0;
            long keptSize = 0;
            for (var i = 0; i < history.Count; i++)
            {
                var size = 1 + CodedOutputStream.ComputeMessageSize(history[i]);
                historySize += size;
                if (i >= history.Count - points)
                {
                    keptSize += size;
                }
            }

            var setSize = set.CalculateSize() - historySize + keptSize;
            total += 1 + CodedOutputStream.ComputeLengthSize((int)setSize) + setSize;
        }

        return total;
    }
}
