using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Indexing.Internal;

namespace Chroma.Benchmarks.Ann;

/// <summary>
/// Loading a saved set index (<see cref="SetIndexFile"/>), in the XXH128 format the server writes and in the SHA-256
/// format of servers before December 7: builds one graph of random vectors (the load does not depend on the graph's
/// quality, so with a small ef_construction), writes both files, then loads each in turn, best and median of the runs,
/// and the checksum alone over the file.
/// </summary>
internal static class IndexFileCommand
{
    public const string Usage = "[--count 200000] [--dim 128] [--runs 5] [--dir DIR]   (set index file load: XXH128 vs SHA-256 checksum)";

    public static int Run(CommandArguments args)
    {
        int count = args.Int("count", 200_000);
        int dim = args.Int("dim", 128);
        int runs = args.Int("runs", 5);
        string dir = args.Optional("dir") ?? Path.Combine(Path.GetTempPath(), "chroma-index-file-" + Guid.NewGuid().ToString("N")[..8]);
        args.RejectUnknown();
        Directory.CreateDirectory(dir);

        var built = Stopwatch.StartNew();
        var random = new Random(7);
        using var graph = new HnswIndex(new HnswOptions { Dimension = dim, EfConstruction = 32 });
        var vector = new float[dim];
        for (int i = 0; i < count; i++)
        {
            for (int j = 0; j < dim; j++)
            {
                vector[j] = (float)random.NextDouble();
            }

            graph.Add(i, vector);
            if ((i + 1) % 50_000 == 0)
            {
                Console.WriteLine($"  built {i + 1:N0} of {count:N0} ({built.Elapsed.TotalSeconds:F0} s)");
            }
        }

        var header = new SetIndexHeader("bench/1/emb", dim, count, new Dictionary<string, int>(StringComparer.Ordinal) { ["production"] = 0 });
        var xxh = Path.Combine(dir, "xxh128.hnsw");
        var sha = Path.Combine(dir, "sha256.hnsw");
        var saved = Stopwatch.StartNew();
        SetIndexFile.Save(xxh, header, graph);
        Console.WriteLine($"{count:N0} x {dim} graph built in {built.Elapsed.TotalSeconds - saved.Elapsed.TotalSeconds:F0} s; saved (XXH128) in {saved.Elapsed.TotalMilliseconds:F0} ms: {new FileInfo(xxh).Length / 1048576.0:F0} MiB");
        WriteSha256Format(sha, header, graph);

        var times = new Dictionary<string, List<double>>(StringComparer.Ordinal) { [xxh] = [], [sha] = [] };
        var hashOnly = new Dictionary<string, List<double>>(StringComparer.Ordinal) { ["XXH128"] = [], ["SHA-256"] = [] };
        var bytes = File.ReadAllBytes(xxh);
        for (int run = 0; run < runs; run++)
        {
            foreach (var path in new[] { xxh, sha })
            {
                var load = Stopwatch.StartNew();
                var (_, loaded) = SetIndexFile.Load(path);
                times[path].Add(load.Elapsed.TotalMilliseconds);
                loaded.Dispose();
            }

            var hash = Stopwatch.StartNew();
            _ = System.IO.Hashing.XxHash128.Hash(bytes);
            hashOnly["XXH128"].Add(hash.Elapsed.TotalMilliseconds);
            hash.Restart();
            _ = SHA256.HashData(bytes);
            hashOnly["SHA-256"].Add(hash.Elapsed.TotalMilliseconds);
        }

        Console.WriteLine($"load, {runs} runs each, alternating (best / median ms):");
        Console.WriteLine($"  XXH128 format (CHSETIX2):  {times[xxh].Min():F0} / {Median(times[xxh]):F0}");
        Console.WriteLine($"  SHA-256 format (CHSETIX1): {times[sha].Min():F0} / {Median(times[sha]):F0}");
        Console.WriteLine($"checksum alone over the {bytes.Length / 1048576.0:F0} MiB in memory (best / median ms): XXH128 {hashOnly["XXH128"].Min():F1} / {Median(hashOnly["XXH128"]):F1}, SHA-256 {hashOnly["SHA-256"].Min():F1} / {Median(hashOnly["SHA-256"]):F1}");
        Directory.Delete(dir, recursive: true);
        return 0;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static void WriteSha256Format(string path, SetIndexHeader header, HnswIndex graph)
    {
        using var payload = new MemoryStream();
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        payload.Write("CHSETIX1"u8);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, json.Length);
        payload.Write(length);
        payload.Write(json);
        graph.Save(payload);
        using var file = File.Create(path);
        payload.Position = 0;
        payload.CopyTo(file);
        file.Write(SHA256.HashData(payload.ToArray()));
    }
}
