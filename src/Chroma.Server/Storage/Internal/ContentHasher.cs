using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Chroma.Server.Storage.Internal;

/// <summary>
/// SHA-256 over a record's content (everything but its id), each field length-prefixed so
/// ("ab","c") and ("a","bc") differ. Stored with the record; a re-sent record with an equal hash
/// is a duplicate, any other with the same id a conflict. Tags added later do not change it.
/// </summary>
internal static class ContentHasher
{
    /// <summary>
    /// The hash of <paramref name="record"/>'s content, with the capture time as the client sent it,
    /// <paramref name="sentTimestampUnixMs"/> (0 when unknown, which the record stores as the time received).
    /// </summary>
    public static byte[] Compute(PreparedRecord record, long sentTimestampUnixMs)
    {
        // Hashing runs once per ingested record: one pooled buffer, no per-field allocations.
        var size = sizeof(long)
            + TextSize(record.Dataset) + BytesSize(record.Embedding) + TextSize(record.InputUri)
            + TextSize(record.PredictedClass) + BytesSize(record.ClassProbabilities) + TextSize(record.ClassNamesJson)
            + TextSize(record.Label) + TextSize(record.MetadataJson);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var span = buffer.AsSpan();
            var at = 0;
            at += WriteText(span[at..], record.Dataset);
            at += WriteBytes(span[at..], record.Embedding);
            at += WriteText(span[at..], record.InputUri);
            at += WriteText(span[at..], record.PredictedClass);
            at += WriteBytes(span[at..], record.ClassProbabilities);
            at += WriteText(span[at..], record.ClassNamesJson);
            at += WriteText(span[at..], record.Label);
            at += WriteText(span[at..], record.MetadataJson);
            BinaryPrimitives.WriteInt64LittleEndian(span[at..], sentTimestampUnixMs);
            at += sizeof(long);
            return SHA256.HashData(span[..at]);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static int TextSize(string? value) => sizeof(int) + (value is null ? 0 : Encoding.UTF8.GetMaxByteCount(value.Length));

    private static int BytesSize(byte[]? value) => sizeof(int) + (value?.Length ?? 0);

    // -1 marks "absent" so null and "" cannot collide if either ever reaches here.
    private static int WriteText(Span<byte> destination, string? value)
    {
        if (value is null)
        {
            BinaryPrimitives.WriteInt32LittleEndian(destination, -1);
            return sizeof(int);
        }

        var length = Encoding.UTF8.GetBytes(value, destination[sizeof(int)..]);
        BinaryPrimitives.WriteInt32LittleEndian(destination, length);
        return sizeof(int) + length;
    }

    private static int WriteBytes(Span<byte> destination, byte[]? value)
    {
        if (value is null)
        {
            BinaryPrimitives.WriteInt32LittleEndian(destination, -1);
            return sizeof(int);
        }

        BinaryPrimitives.WriteInt32LittleEndian(destination, value.Length);
        value.CopyTo(destination[sizeof(int)..]);
        return sizeof(int) + value.Length;
    }
}
