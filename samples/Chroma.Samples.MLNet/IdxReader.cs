using System.Buffers.Binary;
using System.IO.Compression;

namespace Chroma.Samples.MLNet;

/// <summary>Reads gzipped IDX files (the MNIST format): big-endian int32 header, then unsigned bytes.</summary>
internal static class IdxReader
{
    private const int ImageMagic = 0x00000803;
    private const int LabelMagic = 0x00000801;

    /// <summary>Reads the images as rows of pixels scaled to [0, 1].</summary>
    public static float[][] ReadImages(string path)
    {
        using var stream = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        var header = ReadInts(stream, 4);
        if (header[0] != ImageMagic)
        {
            throw new InvalidDataException($"{path}: magic 0x{header[0]:x8} is not an IDX image file (0x{ImageMagic:x8}).");
        }

        var (count, pixels) = (header[1], header[2] * header[3]);
        var buffer = new byte[pixels];
        var images = new float[count][];
        for (var i = 0; i < count; i++)
        {
            stream.ReadExactly(buffer);
            images[i] = Array.ConvertAll(buffer, b => b / 255f);
        }

        return images;
    }

    /// <summary>Reads the labels (0-9).</summary>
    public static byte[] ReadLabels(string path)
    {
        using var stream = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        var header = ReadInts(stream, 2);
        if (header[0] != LabelMagic)
        {
            throw new InvalidDataException($"{path}: magic 0x{header[0]:x8} is not an IDX label file (0x{LabelMagic:x8}).");
        }

        var labels = new byte[header[1]];
        stream.ReadExactly(labels);
        return labels;
    }

    private static int[] ReadInts(Stream stream, int count)
    {
        Span<byte> bytes = stackalloc byte[4];
        var values = new int[count];
        for (var i = 0; i < count; i++)
        {
            stream.ReadExactly(bytes);
            values[i] = BinaryPrimitives.ReadInt32BigEndian(bytes);
        }

        return values;
    }
}
