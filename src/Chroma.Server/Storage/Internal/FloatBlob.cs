using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Chroma.Server.Storage.Internal;

/// <summary>float32 vectors stored as little-endian BLOBs, whatever the machine's byte order.</summary>
internal static class FloatBlob
{
    /// <summary>Copies <paramref name="values"/> into a new little-endian blob.</summary>
    public static byte[] FromFloats(ReadOnlySpan<float> values)
    {
        var bytes = MemoryMarshal.AsBytes(values).ToArray();
        SwapIfBigEndian(MemoryMarshal.Cast<byte, float>(bytes.AsSpan()));
        return bytes;
    }

    /// <summary>A float view of a blob written by <see cref="FromFloats"/> (little-endian hosts only need no copy).</summary>
    public static ReadOnlySpan<float> AsFloats(byte[] blob)
    {
        if (BitConverter.IsLittleEndian)
        {
            return MemoryMarshal.Cast<byte, float>(blob.AsSpan());
        }

        var copy = MemoryMarshal.Cast<byte, float>(blob.AsSpan()).ToArray();
        SwapIfBigEndian(copy);
        return copy;
    }

    /// <summary>Decodes <paramref name="blob"/> into <paramref name="destination"/> (same count).</summary>
    public static void CopyTo(ReadOnlySpan<byte> blob, Span<float> destination)
    {
        MemoryMarshal.Cast<byte, float>(blob).CopyTo(destination);
        SwapIfBigEndian(destination);
    }

    private static void SwapIfBigEndian(Span<float> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            return;
        }

        var raw = MemoryMarshal.Cast<float, int>(values);
        BinaryPrimitives.ReverseEndianness(raw, raw);
    }
}
