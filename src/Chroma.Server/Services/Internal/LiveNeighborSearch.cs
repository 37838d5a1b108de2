using Chroma.Protocol.V1;
using Chroma.Server.Indexing;

namespace Chroma.Server.Services.Internal;

/// <summary>
/// The k nearest records the store still holds. Records the store has deleted can still be in a set's index (it applies
/// deletions behind the store: for seconds while its graph is built), and they are left out of an answer; so the index
/// is searched deeper (4 times as deep each round) until k live records are found, it has no more, or the depth
/// reaches <see cref="MaxDepth"/>.
/// </summary>
internal static class LiveNeighborSearch
{
    /// <summary>How deep a search goes at most for <paramref name="k"/> live records: 16 k, and at least 1,024.</summary>
    public static int MaxDepth(int k) => Math.Max(k * 16, 1024);

    /// <summary>
    /// Up to <paramref name="k"/> live neighbours, nearest first: <paramref name="search"/> answers a depth with that
    /// many nearest indexed records (fewer when the index has no more), <paramref name="read"/> the stored records of
    /// sequences (the live ones). A neighbour at a distance that overflowed (stored by an older server with values of
    /// 2^50 or more, which ingest now refuses) is left out too: it is no one's neighbour.
    /// </summary>
    public static List<Neighbor> Find(int k, Func<int, IReadOnlyList<VectorNeighbor>> search, Func<IReadOnlyList<long>, IReadOnlyList<StoredRecord>> read)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentNullException.ThrowIfNull(search);
        ArgumentNullException.ThrowIfNull(read);
        var maxDepth = MaxDepth(k);
        for (var depth = k; ; depth = Math.Min(depth * 4, maxDepth))
        {
            var neighbors = search(depth);
            var records = read([.. neighbors.Select(n => n.Sequence)]).ToDictionary(r => r.Sequence);
            var live = new List<Neighbor>(k);
            foreach (var neighbor in neighbors)
            {
                if (live.Count == k)
                {
                    break;
                }

                if (float.IsFinite(neighbor.Distance) && records.TryGetValue(neighbor.Sequence, out var record))
                {
                    live.Add(new Neighbor { Record = record, Distance = neighbor.Distance });
                }
            }

            if (live.Count >= k || neighbors.Count < depth || depth >= maxDepth)
            {
                return live;
            }
        }
    }
}
