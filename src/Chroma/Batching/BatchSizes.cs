using Chroma.Protocol.V1;
using Google.Protobuf;

namespace Chroma.Batching;

/// <summary>Encoded sizes of batches and their records, as the wire counts them (protobuf <c>CalculateSize</c>: no encoding).</summary>
internal static class BatchSizes
{
    /// <summary>What <paramref name="record"/> adds to a <see cref="LogBatch"/>: its bytes, its length prefix and its field tag.</summary>
    public static int OfRecord(Record record)
    {
        var size = record.CalculateSize();
        return 1 + CodedOutputStream.ComputeLengthSize(size) + size;
    }
}
