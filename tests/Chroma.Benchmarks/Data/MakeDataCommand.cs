using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;

namespace Chroma.Benchmarks.Data;

/// <summary>
/// Writes the two benchmark sets as fvecs plus exact L2 ground truth (100 neighbours) as ivecs:
/// MNIST + notMNIST test images (784-d, raw pixels 0..255, 20,000 shuffled: 19,000 base + 1,000 queries) and a
/// synthetic clustered 128-d set (low-rank clusters plus noise, like real embeddings) with 1,000 extra queries.
/// </summary>
internal static class MakeDataCommand
{
    public const string Usage = "--out DIR [--samples samples/data] [--synthetic-count 200000] [--seed 7]";

    private const int GroundTruthK = 100;
    private const int QueryCount = 1000;

    public static int Run(CommandArguments args)
    {
        string outDir = args.Required("out");
        string samples = args.Optional("samples") ?? "samples/data";
        int syntheticCount = args.Int("synthetic-count", 200_000);
        int seed = args.Int("seed", 7);
        args.RejectUnknown();
        Directory.CreateDirectory(outDir);

        float[] images = [.. ReadIdxImages(Path.Combine(samples, "mnist-t10k-images-idx3-ubyte.gz")),
                          .. ReadIdxImages(Path.Combine(samples, "notmnist-t10k-images-idx3-ubyte.gz"))];
        Shuffle(images, 784, new Random(seed));
        WriteSet(outDir, "mnist-notmnist", images, 784, images.Length / 784 - QueryCount);

        float[] synthetic = Clustered(syntheticCount + QueryCount, 128, new Random(seed));
        WriteSet(outDir, $"synthetic-{syntheticCount / 1000}k-128", synthetic, 128, syntheticCount);
        return 0;
    }

    private static void WriteSet(string outDir, string name, float[] all, int dim, int baseCount)
    {
        var sw = Stopwatch.StartNew();
        int queryCount = (all.Length / dim) - baseCount;
        float[] baseData = all[..(baseCount * dim)];
        float[] queries = all[(baseCount * dim)..];
        VecsFile.Write<float>(Path.Combine(outDir, $"{name}-base.fvecs"), baseData, dim);
        VecsFile.Write<float>(Path.Combine(outDir, $"{name}-queries.fvecs"), queries, dim);
        int[] truth = ExactNeighbours.Compute(baseData, baseCount, queries, queryCount, dim, GroundTruthK, "l2");
        VecsFile.Write<int>(Path.Combine(outDir, $"{name}-groundtruth.ivecs"), truth, GroundTruthK);
        Console.WriteLine($"{name}: {baseCount} base + {queryCount} queries x {dim}, ground truth in {sw.Elapsed.TotalSeconds:F1} s");
    }

    private static float[] ReadIdxImages(string path)
    {
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        Span<byte> header = stackalloc byte[16];
        gzip.ReadExactly(header);
        if (BinaryPrimitives.ReadInt32BigEndian(header) != 0x803)
        {
            throw new ArgumentException($"{path} is not an IDX image file.");
        }

        int count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        int pixels = BinaryPrimitives.ReadInt32BigEndian(header[8..]) * BinaryPrimitives.ReadInt32BigEndian(header[12..]);
        var bytes = new byte[count * pixels];
        gzip.ReadExactly(bytes);
        return Array.ConvertAll(bytes, b => (float)b);
    }

    private static void Shuffle(float[] rows, int dim, Random random)
    {
        var tmp = new float[dim];
        for (int i = (rows.Length / dim) - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            rows.AsSpan(i * dim, dim).CopyTo(tmp);
            rows.AsSpan(j * dim, dim).CopyTo(rows.AsSpan(i * dim, dim));
            tmp.CopyTo(rows.AsSpan(j * dim, dim));
        }
    }

    /// <summary>
    /// 256 clusters; each point is its centre plus a 16-d latent Gaussian through the cluster's own random basis,
    /// plus small isotropic noise: locally low-dimensional like real embeddings, so recall is meaningful.
    /// </summary>
    internal static float[] Clustered(int count, int dim, Random random)
    {
        const int clusters = 256;
        const int latent = 16;
        var centres = new float[clusters * dim];
        var bases = new float[clusters * latent * dim];
        for (int i = 0; i < centres.Length; i++)
        {
            centres[i] = Gaussian(random) * 4f;
        }

        for (int i = 0; i < bases.Length; i++)
        {
            bases[i] = Gaussian(random) / MathF.Sqrt(latent);
        }

        var data = new float[count * dim];
        Span<float> z = stackalloc float[latent];
        for (int p = 0; p < count; p++)
        {
            int c = random.Next(clusters);
            Span<float> row = data.AsSpan(p * dim, dim);
            centres.AsSpan(c * dim, dim).CopyTo(row);
            for (int l = 0; l < latent; l++)
            {
                z[l] = Gaussian(random);
            }

            for (int l = 0; l < latent; l++)
            {
                ReadOnlySpan<float> b = bases.AsSpan(((c * latent) + l) * dim, dim);
                for (int d = 0; d < dim; d++)
                {
                    row[d] += z[l] * b[d];
                }
            }

            for (int d = 0; d < dim; d++)
            {
                row[d] += 0.1f * Gaussian(random);
            }
        }

        return data;
    }

    internal static float Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
