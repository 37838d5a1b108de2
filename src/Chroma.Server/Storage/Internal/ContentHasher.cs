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
    /// <summary>The hash of <paramref name="record"/>'s content.</summary>
    public static byte[] Compute(PreparedRecord record)
    {
        var buffer = new ArrayBufferWriter<byte>(record.Embedding.Length + 256);
        AppendText(buffer, record.Dataset);
        AppendBytes(buffer, record.Embedding);
        AppendText(buffer, record.InputUri);
        AppendText(buffer, record.PredictedClass);
        AppendBytes(buffer, record.ClassProbabilities);
        AppendText(buffer, record.ClassNamesJson);
        AppendText(buffer, record.Label);
        AppendText(buffer, record.MetadataJson);
        BinaryPrimitives.WriteInt64LittleEndian(buffer.GetSpan(sizeof(long)), record.TimestampUnixMs);
        buffer.Advance(sizeof(long));
        return SHA256.HashData(buffer.WrittenSpan);
    }

    private static void AppendText(ArrayBufferWriter<byte> buffer, string? value)
    {
        // -1 marks "absent" so null and "" cannot collide if either ever reaches here.
        if (value is null)
        {
            AppendLength(buffer, -1);
            return;
        }

        var length = Encoding.UTF8.GetByteCount(value);
        AppendLength(buffer, length);
        buffer.Advance(Encoding.UTF8.GetBytes(value, buffer.GetSpan(length)));
    }

    private static void AppendBytes(ArrayBufferWriter<byte> buffer, byte[]? value)
    {
        if (value is null)
        {
            AppendLength(buffer, -1);
            return;
        }

        AppendLength(buffer, value.Length);
        buffer.Write(value);
    }

    private static void AppendLength(ArrayBufferWriter<byte> buffer, int length)
    {
        BinaryPrimitives.WriteInt32LittleEndian(buffer.GetSpan(sizeof(int)), length);
        buffer.Advance(sizeof(int));
    }
}
