using Chroma.Server.Recommendations;

namespace Chroma.Server.Tests.Recommendations;

/// <summary>
/// Scored records whose score falls with their index (a Mahalanobis p-value that rises), for rankings whose score order
/// is known: near-copies of one direction (distance about 1e-4, well under the 0.05 near-duplicate threshold) or
/// records pointing anywhere (about 1.4 apart, never near-duplicates).
/// </summary>
internal static class RecordsInScoreOrder
{
    private const int Width = 32;

    /// <summary>Records that score in the order given: <paramref name="flood"/> near-copies first (if any), then <paramref name="distinct"/> distinct records.</summary>
    public static ScoredRecord[] FloodThenDistinct(int flood, int distinct) =>
        [.. Enumerable.Range(0, flood + distinct).Select(rank => Record(rank, copy: rank < flood))];

    private static ScoredRecord Record(int rank, bool copy)
    {
        var random = new Random(5000 + rank);
        var v = new float[Width];
        for (var j = 0; j < Width; j++)
        {
            v[j] = copy ? (j == 0 ? 1 : (float)((random.NextDouble() - 0.5) * 1e-4)) : (float)(random.NextDouble() - 0.5);
        }

        var unit = new float[Width];
        UnitVectors.Normalize(v, unit);
        var p = 1e-4 * (1 + (0.05 * rank));
        var measurement = new EmbeddingMeasurement(1, "0", new NeighborSignals(0.1, 0, 10, null, 0));
        var id = (copy ? "copy" : "distinct") + rank.ToString("D4", System.Globalization.CultureInfo.InvariantCulture);
        return new ScoredRecord(id, "v1", unit, "0", measurement, null, [new(SignalKind.Mahalanobis, 10, 1, p)]);
    }
}
