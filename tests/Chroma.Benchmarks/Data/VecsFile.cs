using System.Runtime.InteropServices;

namespace Chroma.Benchmarks.Data;

/// <summary>
/// TEXMEX .fvecs / .ivecs files: per vector an int32 dimension then that many float32 (or int32) values,
/// little-endian. Loaded into one flat array, row-major.
/// </summary>
internal static class VecsFile
{
    public static (float[] Data, int Count, int Dim) ReadFloats(string path)
    {
        (int[] raw, int count, int dim) = ReadInts(path);
        return (MemoryMarshal.Cast<int, float>(raw.AsSpan()).ToArray(), count, dim);
    }

    public static (int[] Data, int Count, int Dim) ReadInts(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 4)
        {
            throw new ArgumentException($"{path} is empty.");
        }

        int dim = BitConverter.ToInt32(bytes, 0);
        int rowBytes = 4 + (4 * dim);
        if (dim <= 0 || bytes.Length % rowBytes != 0)
        {
            throw new ArgumentException($"{path} is not a vecs file (dimension {dim}, {bytes.Length} bytes).");
        }

        int count = bytes.Length / rowBytes;
        var data = new int[count * dim];
        ReadOnlySpan<int> all = MemoryMarshal.Cast<byte, int>(bytes);
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<int> row = all.Slice(i * (dim + 1), dim + 1);
            if (row[0] != dim)
            {
                throw new ArgumentException($"{path}: vector {i} has dimension {row[0]}, expected {dim}.");
            }

            row[1..].CopyTo(data.AsSpan(i * dim, dim));
        }

        return (data, count, dim);
    }

    public static void Write<T>(string path, ReadOnlySpan<T> data, int dim)
        where T : unmanaged
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Span<byte> header = stackalloc byte[4];
        for (int i = 0; i < data.Length / dim; i++)
        {
            BitConverter.TryWriteBytes(header, dim);
            stream.Write(header);
            stream.Write(MemoryMarshal.AsBytes(data.Slice(i * dim, dim)));
        }
    }
}
