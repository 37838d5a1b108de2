using System.Buffers.Binary;
using System.IO.Compression;

namespace Chroma.Server.Tests.Recommendations.Data;

/// <summary>
/// Reads IDX files (the MNIST / notMNIST format), optionally gzip-compressed: big-endian int32
/// magic (0x00000803 images, 0x00000801 labels), int32 count, for images int32 rows and int32
/// columns, then unsigned bytes row-major. Used to evaluate the engine on real data.
/// </summary>
internal static class IdxReader
{
    private const int ImagesMagic = 0x00000803;
    private const int LabelsMagic = 0x00000801;

    /// <summary>Reads up to <paramref name="maxCount"/> images as floats scaled to 0..1, row-major.</summary>
    /// <returns>The pixels, the image count read, and pixels per image.</returns>
    public static (float[] Pixels, int Count, int PixelsPerImage) ReadImages(string path, int maxCount = int.MaxValue)
    {
        using var stream = Open(path);
        var (count, header) = ReadHeader(stream, ImagesMagic, path, extraInts: 2);
        var pixelsPerImage = header[0] * header[1];
        count = Math.Min(count, maxCount);
        var bytes = new byte[count * pixelsPerImage];
        stream.ReadExactly(bytes);
        var pixels = new float[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
        {
            pixels[i] = bytes[i] / 255f;
        }

        return (pixels, count, pixelsPerImage);
    }

    /// <summary>Reads up to <paramref name="maxCount"/> labels.</summary>
    public static byte[] ReadLabels(string path, int maxCount = int.MaxValue)
    {
        using var stream = Open(path);
        var (count, _) = ReadHeader(stream, LabelsMagic, path, extraInts: 0);
        var labels = new byte[Math.Min(count, maxCount)];
        stream.ReadExactly(labels);
        return labels;
    }

    private static Stream Open(string path)
    {
        var file = File.OpenRead(path);
        return path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    private static (int Count, int[] Extra) ReadHeader(Stream stream, int expectedMagic, string path, int extraInts)
    {
        Span<byte> buffer = stackalloc byte[4];
        stream.ReadExactly(buffer);
        var magic = BinaryPrimitives.ReadInt32BigEndian(buffer);
        if (magic != expectedMagic)
        {
            throw new InvalidDataException($"{path}: IDX magic 0x{magic:X8}, expected 0x{expectedMagic:X8}.");
        }

        stream.ReadExactly(buffer);
        var count = BinaryPrimitives.ReadInt32BigEndian(buffer);
        var extra = new int[extraInts];
        for (var i = 0; i < extraInts; i++)
        {
            stream.ReadExactly(buffer);
            extra[i] = BinaryPrimitives.ReadInt32BigEndian(buffer);
        }

        return (count, extra);
    }
}
