using System.Buffers.Binary;
using System.IO.Compression;

namespace Chroma.Samples.Shared;

/// <summary>
/// Reads the gzipped IDX files in samples/data (MNIST and notMNIST: 28x28 grey images and their labels).
/// Pixels are scaled to 0..1.
/// </summary>
internal sealed class IdxImages
{
    private IdxImages(float[][] pixels, byte[] labels)
    {
        Pixels = pixels;
        Labels = labels;
    }

    /// <summary>One row of 784 floats in 0..1 per image.</summary>
    public float[][] Pixels { get; }

    /// <summary>The label of each image (0-9; for notMNIST 0-9 stand for the letters A-J).</summary>
    public byte[] Labels { get; }

    public int Count => Labels.Length;

    /// <summary>Loads <c>{prefix}-images-idx3-ubyte.gz</c> and <c>{prefix}-labels-idx1-ubyte.gz</c> from <paramref name="directory"/>.</summary>
    public static IdxImages Load(string directory, string prefix)
    {
        var images = ReadAll(Path.Combine(directory, prefix + "-images-idx3-ubyte.gz"));
        var labels = ReadAll(Path.Combine(directory, prefix + "-labels-idx1-ubyte.gz"));
        Expect(BinaryPrimitives.ReadInt32BigEndian(images), 0x803, "image file magic");
        Expect(BinaryPrimitives.ReadInt32BigEndian(labels), 0x801, "label file magic");
        var count = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(4));
        var rows = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(8));
        var cols = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(12));
        Expect(BinaryPrimitives.ReadInt32BigEndian(labels.AsSpan(4)), count, "label count");
        var size = rows * cols;
        var pixels = new float[count][];
        for (var i = 0; i < count; i++)
        {
            var row = new float[size];
            var source = images.AsSpan(16 + (i * size), size);
            for (var p = 0; p < size; p++)
            {
                row[p] = source[p] / 255f;
            }

            pixels[i] = row;
        }

        return new IdxImages(pixels, labels.AsSpan(8, count).ToArray());
    }

    /// <summary>Finds samples/data by walking up from the working directory and the program's folder.</summary>
    public static string FindDataDirectory()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "samples", "data");
                if (File.Exists(Path.Combine(candidate, "mnist-t10k-images-idx3-ubyte.gz")))
                {
                    return candidate;
                }
            }
        }

        throw new DirectoryNotFoundException("samples/data with the MNIST files was not found above the working directory; run from the repository.");
    }

    private static byte[] ReadAll(string path)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        return memory.ToArray();
    }

    private static void Expect(int actual, int expected, string what)
    {
        if (actual != expected)
        {
            throw new InvalidDataException($"{what}: expected {expected}, found {actual}.");
        }
    }
}
