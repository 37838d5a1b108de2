using Chroma.Server.Indexing;

namespace Chroma.Server.Services.Internal;

/// <summary>
/// A record_id query's own record is its nearest neighbour by definition (distance 0): it goes first even when
/// the graph walk missed it or another record shares its vector, and the list keeps k entries.
/// </summary>
internal static class SelfFirst
{
    public static IReadOnlyList<VectorNeighbor> Apply(IReadOnlyList<VectorNeighbor> neighbors, long self, int k)
    {
        ArgumentNullException.ThrowIfNull(neighbors);
        if (neighbors.Count > 0 && neighbors[0].Sequence == self)
        {
            return neighbors;
        }

        var ordered = new List<VectorNeighbor>(Math.Min(k, neighbors.Count + 1)) { new(self, 0f) };
        foreach (var neighbor in neighbors)
        {
            if (ordered.Count == k)
            {
                break;
            }

            if (neighbor.Sequence != self)
            {
                ordered.Add(neighbor);
            }
        }

        return ordered;
    }
}
