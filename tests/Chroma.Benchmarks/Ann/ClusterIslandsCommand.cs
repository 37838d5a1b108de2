#pragma warning disable CA1303, CA1305, CA1307, CA1310, CA1822, CA1861, CA2201, CA5394, IDE0011, IDE0058, IDE0008, IDE0007, IDE0028, IDE0045, IDE0046
using System.Diagnostics;
using System.Globalization;
using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Indexing.Hnsw.Internal;

namespace Chroma.Benchmarks.Ann;

/// <summary>
/// Reproduction of probe K's split cluster: isotropic Gaussian clusters far apart (centres N(0, 4^2) per coordinate,
/// sigma U(0.3, 1.5), as probe K's gen.py), a first load of --first vectors, then --later vectors inserted into the same
/// graph. Per cluster: weak components of its induced layer-0 subgraph (an "island" = a component holding no
/// first-load node) and recall@10 of fresh queries in the cluster at --ef.
/// </summary>
internal static unsafe class ClusterIslandsCommand
{
    public const string Usage = "[--first 40000] [--later 20000] [--clusters 200] [--dim 128] [--seed 1] [--threads 1] [--batch 256] [--queries 20] [--ef 128] [--m 16] [--efc 200] [--upper (UpperBeam; 1 = greedy)] [--reconnect] [--big K --big-weight W (clusters 0..K-1 W times as likely)]";

    public static int Run(CommandArguments args)
    {
        int first = args.Int("first", 40_000), later = args.Int("later", 20_000), nc = args.Int("clusters", 200), dim = args.Int("dim", 128);
        int seed = args.Int("seed", 1), threads = args.Int("threads", 1), batch = args.Int("batch", 256), queries = args.Int("queries", 20);
        int ef = args.Int("ef", 128), m = args.Int("m", 16), efc = args.Int("efc", 200), upper = args.Int("upper", new HnswOptions { Dimension = 1 }.UpperBeam);
        bool reconnect = args.Flag("reconnect");
        int big = args.Int("big", 0), bigWeight = args.Int("big-weight", 1);
        args.RejectUnknown();

        var rng = new Random(seed);
        var centers = new float[nc][];
        var spread = new float[nc];
        for (int c = 0; c < nc; c++)
        {
            centers[c] = new float[dim];
            for (int d = 0; d < dim; d++) centers[c][d] = 4f * Gauss(rng);
            spread[c] = 0.3f + (1.2f * (float)rng.NextDouble());
        }

        int total = first + later;
        var label = new int[total];
        var data = new float[total][];
        for (int i = 0; i < total; i++)
        {
            int c = rng.Next(nc + (big * (bigWeight - 1)));
            if (c >= nc) c = (c - nc) % big;
            label[i] = c;
            data[i] = new float[dim];
            for (int d = 0; d < dim; d++) data[i][d] = centers[c][d] + (spread[c] * Gauss(rng));
        }

        using var index = new HnswIndex(new HnswOptions { Dimension = dim, M = m, EfConstruction = efc, UpperBeam = upper });
        var po = new ParallelOptions { MaxDegreeOfParallelism = threads };
        var sw = Stopwatch.StartNew();
        void Insert(int from, int to)
        {
            int sinceReconnect = 0;
            for (int s = from; s < to; s += batch)
            {
                int e = Math.Min(to, s + batch);
                Parallel.For(s, e, po, i => index.Add(i, data[i]));
                sinceReconnect += e - s;
                if (reconnect && sinceReconnect >= Math.Max(4096, index.Count / 8))
                {
                    index.Reconnect();
                    sinceReconnect = 0;
                }
            }
        }

        Insert(0, first);
        var firstReport = Analyse(index, data, label, centers, spread, nc, first, queries, ef, seed, quiet: true);
        Console.WriteLine($"after first {first}: {sw.Elapsed.TotalSeconds:F1} s; {firstReport}");
        Insert(first, total);
        if (reconnect) index.Reconnect();
        var report = Analyse(index, data, label, centers, spread, nc, first, queries, ef, seed, quiet: false);
        Console.WriteLine($"after later {later}: {sw.Elapsed.TotalSeconds:F1} s; {report}");
        return 0;
    }

    internal static string Analyse(HnswIndex index, float[][] data, int[] label, float[][] centers, float[] spread, int nc, int first, int queries, int ef, int seed, bool quiet)
    {
        HnswGraph g = index.GraphForDiagnostics;
        NodeStore nodes = g.Nodes;
        int n = g.NodeCount, dim = g.Dim;
        var nodeOfKey = new int[data.Length];
        Array.Fill(nodeOfKey, -1);
        for (int i = 0; i < n; i++) nodeOfKey[nodes.Key(i)] = i;
        var byCluster = new List<int>[nc];
        for (int c = 0; c < nc; c++) byCluster[c] = new List<int>();
        for (int i = 0; i < n; i++) byCluster[label[nodes.Key(i)]].Add(i);

        int splitClusters = 0, islandNodes = 0;
        double recallSum = 0;
        int queryCount = 0, below = 0, descentOutside = 0;
        var worst = new List<(double Recall, int Cluster, string Note)>();
        var qrng = new Random(seed + 7);
        var comp = new int[n];
        Array.Fill(comp, -1);
        for (int c = 0; c < nc; c++)
        {
            var mem = byCluster[c];
            if (mem.Count == 0) continue;
            var inC = new HashSet<int>(mem);
            var adj = mem.ToDictionary(x => x, _ => new List<int>());
            foreach (int x in mem)
            {
                int* l = nodes.Links0(x);
                for (int j = 1; j <= l[0]; j++) if (inC.Contains(l[j])) { adj[x].Add(l[j]); adj[l[j]].Add(x); }
            }

            var comps = new List<(int Size, int First)>();
            foreach (int x in mem)
            {
                if (comp[x] >= 0) continue;
                int id = comps.Count, size = 0, f = 0;
                var st = new Stack<int>();
                st.Push(x);
                comp[x] = id;
                while (st.Count > 0)
                {
                    int y = st.Pop();
                    size++;
                    if (nodes.Key(y) < first) f++;
                    foreach (int z in adj[y]) if (comp[z] < 0) { comp[z] = id; st.Push(z); }
                }

                comps.Add((size, f));
            }

            int isl = comps.Where(cc => cc.First == 0).Sum(cc => cc.Size);
            if (comps.Count > 1) splitClusters++;
            islandNodes += isl;

            double cr = 0;
            for (int q = 0; q < queries; q++)
            {
                var v = new float[dim];
                for (int d = 0; d < dim; d++) v[d] = centers[c][d] + (spread[c] * Gauss(qrng));
                var truth = mem.Select(x => (D: Dist(v, data[nodes.Key(x)]), K: nodes.Key(x))).OrderBy(t => t.D).Take(10).Select(t => t.K).ToHashSet();
                var res = index.Search(v, 10, null, ef);
                fixed (float* qp = v)
                {
                    long ep = g.EntryForPersistence;
                    int cur = (int)(ep & 0xFFFFFFFF);
                    float cd = Dist(v, data[nodes.Key(cur)]);
                    for (int level = (int)(ep >> 32); level > 0; level--)
                    {
                        bool changed = true;
                        while (changed)
                        {
                            changed = false;
                            ref int list = ref nodes.LinksRef(cur, level);
                            for (int j = 1; j <= list; j++) { int o = System.Runtime.CompilerServices.Unsafe.Add(ref list, j); float d = Dist(v, data[nodes.Key(o)]); if (d < cd) { cd = d; cur = o; changed = true; } }
                        }
                    }
                    if (label[nodes.Key(cur)] != c) descentOutside++;
                }
                int h = res.Count(r => truth.Contains(r.Key));
                cr += h / (double)truth.Count;
                if (h < 5) below++;
            }

            cr /= Math.Max(1, queries);
            recallSum += cr * queries;
            queryCount += queries;
            worst.Add((cr, c, $"{mem.Count} nodes, sigma {spread[c]:F2}, components {string.Join("/", comps.OrderByDescending(x => x.Size).Take(4).Select(x => $"{x.Size}({x.First} first)"))}"));
        }

        string w = string.Join("; ", worst.OrderBy(x => x.Recall).Take(quiet ? 3 : 6).Select(x => $"c{x.Cluster} {x.Recall:F2} [{x.Note}]"));
        return $"recall@10 ef {ef} {recallSum / queryCount:F4}, queries < 0.5: {below}/{queryCount}; greedy descent ends outside the query's cluster: {descentOutside}; clusters split at layer 0: {splitClusters}, nodes in islands without first-load nodes: {islandNodes}; worst: {w}";
    }

    private static float Dist(float[] a, float[] b)
    {
        float s = 0;
        for (int i = 0; i < a.Length; i++) { float d = a[i] - b[i]; s += d * d; }
        return s;
    }

    private static float Gauss(Random r)
    {
        double u1 = 1.0 - r.NextDouble(), u2 = r.NextDouble();
        return (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
