using System.Diagnostics;
using Chroma.Server.Indexing.Hnsw.Internal;

namespace Chroma.Benchmarks.Kernels;

/// <summary>Times the hand-written SIMD distance kernels against TensorPrimitives at the benchmark dimensions.</summary>
internal static unsafe class KernelsCommand
{
    public const string Usage = "[--dims 128,784] [--pairs 4096] [--rounds 50]";

    public static int Run(CommandArguments args)
    {
        int[] dims = args.IntList("dims", "128,784");
        int pairs = args.Int("pairs", 4096);
        int rounds = args.Int("rounds", 50);
        args.RejectUnknown();
        var random = new Random(1);
        Console.WriteLine("| dim | kernel | ns/call |");
        Console.WriteLine("|---|---|---|");
        foreach (int dim in dims)
        {
            float[] a = GC.AllocateArray<float>(pairs * dim, pinned: true);
            float[] b = GC.AllocateArray<float>(pairs * dim, pinned: true);
            for (int i = 0; i < a.Length; i++)
            {
                a[i] = random.NextSingle();
                b[i] = random.NextSingle();
            }

            fixed (float* pa = a, pb = b)
            {
                float* x = pa, y = pb;
                Report(dim, "hand L2", pairs, rounds, i => DistanceKernels.SquaredL2(x + (i * dim), y + (i * dim), dim));
                Report(dim, "TensorPrimitives L2", pairs, rounds, i => DistanceKernels.SquaredL2Tensor(a.AsSpan(i * dim, dim), b.AsSpan(i * dim, dim)));
                Report(dim, "hand dot", pairs, rounds, i => DistanceKernels.Dot(x + (i * dim), y + (i * dim), dim));
                Report(dim, "TensorPrimitives dot", pairs, rounds, i => DistanceKernels.DotTensor(a.AsSpan(i * dim, dim), b.AsSpan(i * dim, dim)));
            }
        }

        return 0;
    }

    private static void Report(int dim, string name, int pairs, int rounds, Func<int, float> kernel)
    {
        // Warm up long enough for tiered compilation to reach the optimised code, then keep the best of 5 runs.
        float sink = 0;
        var warmup = Stopwatch.StartNew();
        while (warmup.ElapsedMilliseconds < 300)
        {
            for (int i = 0; i < pairs; i++)
            {
                sink += kernel(i);
            }
        }

        double best = double.MaxValue;
        for (int run = 0; run < 5; run++)
        {
            var sw = Stopwatch.StartNew();
            for (int r = 0; r < rounds; r++)
            {
                for (int i = 0; i < pairs; i++)
                {
                    sink += kernel(i);
                }
            }

            best = Math.Min(best, sw.Elapsed.TotalNanoseconds / ((double)pairs * rounds));
        }

        Console.WriteLine($"| {dim} | {name} | {best:F1} |{(float.IsNaN(sink) ? " (NaN)" : string.Empty)}");
    }
}
