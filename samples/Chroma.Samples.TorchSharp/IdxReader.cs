using System.Buffers.Binary;
using System.IO.Compression;

namespace Chroma.Samples.TorchSharp;

/// <summary>Images of one IDX file: <see cref="Count"/> images of <see cref="Rows"/> x <see cref="Columns"/> grey bytes, row-major.</summary>
/// <param name="Count">How many images.</param>
/// <param name="Rows">Image height.</param>
/// <param name="Columns">Image width.</param>
/// <param name="Pixels">All pixels, image after image.</param>
public sealed record IdxImages(int Count, int Rows, int Columns, byte[] Pixels)
{
    /// <summary>Pixels per image.</summary>
    public int ImageSize => Rows * Columns;
}

/// <summary>
/// Reads the IDX format of MNIST and notMNIST (optionally gzip-compressed): a big-endian magic number
/// (0x00000803 images, 0x00000801 labels), the item count, for images the row and column counts, then unsigned bytes.
/// </summary>
public static class IdxReader
{
    private const int ImagesMagic = 0x00000803;
    private const int LabelsMagic = 0x00000801;

    /// <summary>Reads an image file.</summary>
    /// <exception cref="InvalidDataException">The file is not an IDX image file or is truncated.</exception>
    public static IdxImages ReadImages(string path)
    {
        using var stream = Open(path);
        ReadHeader(stream, path, ImagesMagic, out var count);
        var rows = ReadInt32(stream, path);
        var columns = ReadInt32(stream, path);
        if (rows <= 0 || columns <= 0)
        {
            throw new InvalidDataException($"{path}: image size {rows}x{columns} is not positive.");
        }

        var pixels = new byte[checked(count * rows * columns)];
        stream.ReadExactly(pixels);
        return new IdxImages(count, rows, columns, pixels);
    }

    /// <summary>Reads a label file (one byte per item).</summary>
    /// <exception cref="InvalidDataException">The file is not an IDX label file or is truncated.</exception>
    public static byte[] ReadLabels(string path)
    {
        using var stream = Open(path);
        ReadHeader(stream, path, LabelsMagic, out var count);
        var labels = new byte[count];
        stream.ReadExactly(labels);
        return labels;
    }

    private static Stream Open(string path)
    {
        Stream file = File.OpenRead(path);
        return path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    private static void ReadHeader(Stream stream, string path, int expectedMagic, out int count)
    {
        var magic = ReadInt32(stream, path);
        if (magic != expectedMagic)
        {
            throw new InvalidDataException($"{path}: magic number 0x{magic:X8} is not 0x{expectedMagic:X8}.");
        }

        count = ReadInt32(stream, path);
        if (count < 0)
        {
            throw new InvalidDataException($"{path}: item count {count} is negative.");
        }
    }

    private static int ReadInt32(Stream stream, string path)
    {
        Span<byte> bytes = stackalloc byte[4];
        try
        {
            stream.ReadExactly(bytes);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException($"{path}: the header is truncated.", ex);
        }

        return BinaryPrimitives.ReadInt32BigEndian(bytes);
    }
}
