using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Chroma.Server.Web.Internal;

/// <summary>
/// The compact binary form of a map the browser reads straight into typed arrays (25 bytes a point and a small header,
/// 5.0 MB for 200 000): a little-endian uint32 header length, a JSON header (dictionaries, versions, count),
/// zero padding to a multiple of 8, then the columns: float64 sequences, float32 x, y and combined score
/// (NaN = not scored), uint16 label and predicted-class indexes, uint8 dataset indexes.
/// </summary>
internal static class MapPayload
{
    /// <summary>The media type of the payload.</summary>
    public const string ContentType = "application/vnd.chroma.map";

    /// <summary>Encodes the points of <paramref name="map"/> with a sequence above <paramref name="after"/> (0: all).</summary>
    public static byte[] Encode(MapSnapshot map, IReadOnlyDictionary<long, float> scores, long scoresRevision, long after)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(scores);
        var start = after <= 0 ? 0 : FirstAfter(map.Sequences, after);
        var n = map.Sequences.Length - start;
        var header = JsonSerializer.SerializeToUtf8Bytes(
            new MapHeader(map.Version, map.ThroughSequence, scoresRevision, n, start == 0 && after <= 0, map.Datasets, map.Labels, map.Classes, map.Projection, map.Variances),
            StudioJson.Options);
        var headerEnd = 4 + header.Length;
        var columns = (headerEnd + 7) / 8 * 8;
        var payload = new byte[columns + (n * (8 + 4 + 4 + 4 + 2 + 2 + 1))];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, (uint)header.Length);
        header.CopyTo(payload, 4);

        var offset = columns;
        offset = Column(payload, offset, map.Sequences.AsSpan(start).ToArray().Select(s => (double)s).ToArray());
        offset = Column(payload, offset, map.X.AsSpan(start));
        offset = Column(payload, offset, map.Y.AsSpan(start));
        var score = new float[n];
        for (var i = 0; i < n; i++)
        {
            score[i] = scores.TryGetValue(map.Sequences[start + i], out var s) ? s : float.NaN;
        }

        offset = Column(payload, offset, score.AsSpan());
        offset = Column(payload, offset, map.Label.AsSpan(start));
        offset = Column(payload, offset, map.Predicted.AsSpan(start));
        map.Dataset.AsSpan(start).CopyTo(payload.AsSpan(offset));
        return payload;
    }

    private static int FirstAfter(long[] sequences, long after)
    {
        var i = Array.BinarySearch(sequences, after);
        return i >= 0 ? i + 1 : ~i;
    }

    private static int Column<T>(byte[] payload, int offset, ReadOnlySpan<T> values)
        where T : struct
    {
        // Every platform .NET runs this server on is little-endian, as the browser's typed arrays are.
        var bytes = MemoryMarshal.AsBytes(values);
        bytes.CopyTo(payload.AsSpan(offset));
        return offset + bytes.Length;
    }

    private static int Column(byte[] payload, int offset, double[] values) => Column(payload, offset, values.AsSpan());

    /// <summary>The JSON header of the payload.</summary>
    private sealed record MapHeader(
        int Version,
        long ThroughSequence,
        long ScoresRevision,
        int Count,
        bool Full,
        string[] Datasets,
        string[] Labels,
        string[] Classes,
        string Projection,
        double[] Variances);
}
