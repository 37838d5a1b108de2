#pragma warning disable CA1303, CA1305, CA1307, CA1310, CA1822, CA1861, CA2201, CA5394, IDE0011, IDE0058, IDE0008, IDE0007, IDE0028, IDE0045, IDE0046
using System.Globalization;
using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Indexing.Hnsw.Internal;
using Chroma.Server.Indexing.Internal;

namespace Chroma.Benchmarks.Ann;

/// <summary>
/// Diagnostics of one cluster inside a saved set index: which nodes lie within --radius of --center (raw float32
/// file), how their layer-0 / upper links run between "generations" (key at or below --split vs above), components of
/// the cluster's induced subgraph, where searches enter it, and recall of fresh Gaussian queries (--sigma) at several
/// breadths against an exact scan of the whole graph.
/// </summary>
internal static unsafe class GraphProbeCommand
{
    public const string Usage = "--file F.hnsw --center C.f32 --sigma S --split KEY [--radius R] [--queries 200] [--seed 5] [--ef 10,64,128,192,512,1024,4096] [--upper W]";

    public static int Run(CommandArguments args)
    {
        string file = args.Required("file");
        string centerFile = args.Required("center");
        float sigma = float.Parse(args.Required("sigma"), CultureInfo.InvariantCulture);
        long split = long.Parse(args.Required("split"), CultureInfo.InvariantCulture);
        float radius = float.Parse(args.Optional("radius") ?? "10", CultureInfo.InvariantCulture);
        int queries = args.Int("queries", 200);
        int seed = args.Int("seed", 5);
        int[] efs = args.IntList("ef", "10,64,128,192,512,1024,4096");
        int upper = args.Int("upper", 0);
        string? general = args.Optional("general");
        string? generalTruth = args.Optional("general-truth");
        args.RejectUnknown();

        var t0 = DateTime.UtcNow;
        var (header, index) = SetIndexFile.Load(file);
        Console.WriteLine($"loaded {file}: {index.NodeCount} nodes, live {index.Count}, through {header.IndexedThroughSequence}, {(DateTime.UtcNow - t0).TotalSeconds:F1} s");
        if (upper > 0)
        {
            typeof(HnswOptions).GetProperty(nameof(HnswOptions.UpperBeam))!.SetValue(index.Options, upper);
        }

        Console.WriteLine($"UpperBeam {index.Options.UpperBeam}");
        if (general is not null && generalTruth is not null)
        {
            byte[] qb = File.ReadAllBytes(general), tb = File.ReadAllBytes(generalTruth);
            int dimension = index.Dimension, nq = qb.Length / 4 / dimension;
            var gq = new float[nq][];
            for (int i = 0; i < nq; i++) { gq[i] = new float[dimension]; Buffer.BlockCopy(qb, i * dimension * 4, gq[i], 0, dimension * 4); }
            var gt = new long[nq * 10];
            Buffer.BlockCopy(tb, 0, gt, 0, tb.Length);
            foreach (int ef in efs)
            {
                double best = double.MaxValue, recall = 0;
                for (int rep = 0; rep < 3; rep++)
                {
                    var sw = System.Diagnostics.Stopwatch.StartNew();
                    int hits = 0;
                    for (int i = 0; i < nq; i++)
                    {
                        var res = index.Search(gq[i], 10, null, ef);
                        for (int r = 0; r < res.Length; r++) for (int t = 0; t < 10; t++) if (gt[(i * 10) + t] == res[r].Key) hits++;
                    }
                    best = Math.Min(best, sw.Elapsed.TotalMilliseconds * 1000 / nq);
                    recall = hits / (10.0 * nq);
                }
                Console.WriteLine($"general queries ({nq}): ef {ef,5}: recall@10 {recall:F4}, best of 3 passes {best:F0} us/query");
            }
        }

        byte[] raw = File.ReadAllBytes(centerFile);
        float[] center = new float[raw.Length / 4];
        Buffer.BlockCopy(raw, 0, center, 0, raw.Length);
        Report(index, center, sigma, split, radius, queries, seed, efs);
        return 0;
    }

    public static void Report(HnswIndex index, float[] center, float sigma, long split, float radius, int queries, int seed, int[] efs)
    {
        HnswGraph g = index.GraphForDiagnostics;
        float[] centerForIslands = center;
        var islandSets = new List<HashSet<int>>();
        NodeStore nodes = g.Nodes;
        int n = g.NodeCount, dim = g.Dim;
        var member = new bool[n];
        var members = new List<int>();
        fixed (float* c = center)
        {
            for (int i = 0; i < n; i++)
            {
                if (nodes.Deleted(i) != 0) continue;
                if (L2(nodes.Vector(i), c, dim) <= radius * radius) { member[i] = true; members.Add(i); }
            }
        }

        int Gen(int node) => nodes.Key(node) <= split ? 0 : 1;
        int[] perGen = new int[2];
        foreach (int m in members) perGen[Gen(m)]++;
        Console.WriteLine($"cluster: {members.Count} live nodes within {radius} (first {perGen[0]}, later {perGen[1]}); node ids {members.Min()}..{members.Max()}");

        // Layer 0: links among members by generation, and out of the cluster.
        long[,] links = new long[2, 2];
        long outLinks = 0;
        var inDeg = new int[n];
        int[] degHist = new int[2 * g.M + 1];
        long[] degSum = new long[2];
        foreach (int m in members)
        {
            int* l = nodes.Links0(m);
            degSum[Gen(m)] += l[0];
            degHist[Math.Min(l[0], degHist.Length - 1)]++;
            for (int j = 1; j <= l[0]; j++)
            {
                int o = l[j];
                if (member[o]) { links[Gen(m), Gen(o)]++; inDeg[o]++; } else outLinks++;
            }
        }

        Console.WriteLine($"layer 0 links: first->first {links[0, 0]}, first->later {links[0, 1]}, later->first {links[1, 0]}, later->later {links[1, 1]}, leaving cluster {outLinks}");
        Console.WriteLine($"mean out-degree: first {(double)degSum[0] / Math.Max(1, perGen[0]):F2}, later {(double)degSum[1] / Math.Max(1, perGen[1]):F2}; full lists (={2 * g.M}) {degHist[2 * g.M]}");

        // Expected under random mixing: share of later among members.
        double laterShare = (double)perGen[1] / members.Count;
        Console.WriteLine($"if links ignored generation: first->later share {laterShare:F3}; measured {(double)links[0, 1] / Math.Max(1, links[0, 0] + links[0, 1]):F3}; later->first share {1 - laterShare:F3}; measured {(double)links[1, 0] / Math.Max(1, links[1, 0] + links[1, 1]):F3}");

        // True neighbour structure: for a sample of members, how many of their 10 exact nearest (within cluster) are later.
        var rng = new Random(seed);
        int sample = Math.Min(300, members.Count);
        long[,] knnGen = new long[2, 2];
        long[,] linkedKnn = new long[2, 2];
        for (int s = 0; s < sample; s++)
        {
            int a = members[rng.Next(members.Count)];
            var best = members.Where(b => b != a).Select(b => (D: L2(nodes.Vector(a), nodes.Vector(b), dim), b)).OrderBy(x => x.D).Take(10).ToList();
            int* l = nodes.Links0(a);
            var set = new HashSet<int>();
            for (int j = 1; j <= l[0]; j++) set.Add(l[j]);
            foreach (var (_, b) in best) { knnGen[Gen(a), Gen(b)]++; if (set.Contains(b)) linkedKnn[Gen(a), Gen(b)]++; }
        }

        Console.WriteLine($"exact 10-NN of {sample} sampled members by generation (from->to): ff {knnGen[0, 0]} fl {knnGen[0, 1]} lf {knnGen[1, 0]} ll {knnGen[1, 1]}; of those linked at layer 0: ff {linkedKnn[0, 0]} fl {linkedKnn[0, 1]} lf {linkedKnn[1, 0]} ll {linkedKnn[1, 1]}");

        // Components: weakly connected components of the induced subgraph; directed reach from a first / later node.
        var comp = new int[n];
        Array.Fill(comp, -1);
        var undirected = new Dictionary<int, List<int>>();
        foreach (int m in members) undirected[m] = new List<int>();
        foreach (int m in members)
        {
            int* l = nodes.Links0(m);
            for (int j = 1; j <= l[0]; j++) if (member[l[j]]) { undirected[m].Add(l[j]); undirected[l[j]].Add(m); }
        }

        var sizes = new List<(int Size, int First, int Later)>();
        foreach (int m in members)
        {
            if (comp[m] >= 0) continue;
            int id = sizes.Count, size = 0, f = 0, la = 0;
            var stack = new Stack<int>();
            stack.Push(m);
            comp[m] = id;
            while (stack.Count > 0)
            {
                int x = stack.Pop();
                size++;
                if (Gen(x) == 0) f++; else la++;
                foreach (int y in undirected[x]) if (comp[y] < 0) { comp[y] = id; stack.Push(y); }
            }

            sizes.Add((size, f, la));
        }

        Console.WriteLine($"weak components of the induced layer-0 subgraph: {sizes.Count}; largest: {string.Join(", ", sizes.OrderByDescending(s => s.Size).Take(5).Select(s => $"{s.Size} ({s.First} first/{s.Later} later)"))}");

        // Islands: components without first-generation nodes. Who links into them (layer 0, whole graph), phases, ids.
        foreach (var island in Enumerable.Range(0, sizes.Count).Where(ci => sizes[ci].First == 0 && sizes[ci].Size >= 20))
        {
            var ids = members.Where(m => comp[m] == island).ToList();
            var inIsland = new HashSet<int>(ids);
            var keys = ids.Select(m => nodes.Key(m)).OrderBy(k => k).ToList();
            Console.WriteLine($"island {island}: {ids.Count} nodes, node ids {ids.Min()}..{ids.Max()}, keys {keys[0]}..{keys[^1]}; key deciles {string.Join(",", Enumerable.Range(0, 11).Select(d => keys[Math.Min(keys.Count - 1, d * keys.Count / 10)]))}");
            var inFrom = new Dictionary<int, int>();
            for (int x = 0; x < n; x++)
            {
                if (inIsland.Contains(x)) continue;
                int* l = nodes.Links0(x);
                for (int j = 1; j <= l[0]; j++) if (inIsland.Contains(l[j])) { inFrom[x] = inFrom.GetValueOrDefault(x) + 1; }
            }
            fixed (float* c = centerForIslands)
            {
                foreach (var (x, cnt) in inFrom.OrderBy(kv => kv.Key).Take(20))
                    Console.WriteLine($"  layer-0 in-link from node {x} key {nodes.Key(x)} (member {member[x]}, dist to centre {MathF.Sqrt(L2(nodes.Vector(x), c, dim)):F2}, level {nodes.Level(x)}): {cnt} links");
            }
            Console.WriteLine($"  nodes outside the island linking into it: {inFrom.Count}");
            int outOfCluster = 0;
            foreach (int m in ids) { int* l = nodes.Links0(m); for (int j = 1; j <= l[0]; j++) if (!inIsland.Contains(l[j])) outOfCluster++; }
            Console.WriteLine($"  island layer-0 links to outside the island: {outOfCluster}; island upper-level nodes {ids.Count(m => nodes.Level(m) > 0)}");
            // Upper levels: links between island and the rest.
            long upIn = 0, upOut = 0;
            foreach (int m in members)
            {
                for (int level = 1; level <= nodes.Level(m); level++)
                {
                    ref int list = ref nodes.LinksRef(m, level);
                    for (int j = 1; j <= list; j++) { int o = System.Runtime.CompilerServices.Unsafe.Add(ref list, j); if (inIsland.Contains(m) && !inIsland.Contains(o)) upOut++; if (!inIsland.Contains(m) && inIsland.Contains(o)) upIn++; }
                }
            }
            Console.WriteLine($"  upper-layer links island->rest {upOut}, rest->island {upIn}");
            fixed (float* c = centerForIslands)
            {
                foreach (int m in ids.OrderBy(x => x).Take(12))
                {
                    int* l = nodes.Links0(m);
                    var parts = new List<string>();
                    for (int j = 1; j <= l[0]; j++) parts.Add($"{(inIsland.Contains(l[j]) ? "I" : member[l[j]] ? "M" : "O")}{l[j]}:{MathF.Sqrt(L2(nodes.Vector(m), nodes.Vector(l[j]), dim)):F1}");
                    Console.WriteLine($"  early island node {m} key {nodes.Key(m)}: {l[0]} links: {string.Join(" ", parts)}");
                }
                // Nearest first-load members of the earliest island node, and whether they are full.
                int e0 = ids.Min();
                var near = members.Where(x => !inIsland.Contains(x) && x < e0).Select(x => (D: MathF.Sqrt(L2(nodes.Vector(e0), nodes.Vector(x), dim)), x)).OrderBy(t => t.D).Take(5);
                Console.WriteLine($"  nearest older main-component nodes of {e0}: {string.Join(" ", near.Select(t => $"{t.x}:{t.D:F2}(deg {nodes.Links0(t.x)[0]})"))}");
            }
            islandSets.Add(inIsland);
        }

        // Directed reach inside the cluster from the first member of each generation.
        foreach (int gen in new[] { 0, 1 })
        {
            int start = members.FirstOrDefault(m => Gen(m) == gen, -1);
            if (start < 0) continue;
            var seen = new HashSet<int> { start };
            var q = new Queue<int>();
            q.Enqueue(start);
            var hops = new Dictionary<int, int> { [start] = 0 };
            while (q.Count > 0)
            {
                int x = q.Dequeue();
                int* l = nodes.Links0(x);
                for (int j = 1; j <= l[0]; j++) { int y = l[j]; if (member[y] && seen.Add(y)) { hops[y] = hops[x] + 1; q.Enqueue(y); } }
            }

            Console.WriteLine($"directed reach within cluster from a {(gen == 0 ? "first" : "later")} node: {seen.Count} of {members.Count}; mean hops to first {hops.Where(h => Gen(h.Key) == 0).Select(h => h.Value).DefaultIfEmpty().Average():F2}, to later {hops.Where(h => Gen(h.Key) == 1).Select(h => h.Value).DefaultIfEmpty().Average():F2}");
        }

        // Upper layers.
        var upper = new int[2];
        long[,] upLinks = new long[2, 2];
        foreach (int m in members)
        {
            int lv = nodes.Level(m);
            if (lv == 0) continue;
            upper[Gen(m)]++;
            for (int level = 1; level <= lv; level++)
            {
                ref int list = ref nodes.LinksRef(m, level);
                for (int j = 1; j <= list; j++) { int o = System.Runtime.CompilerServices.Unsafe.Add(ref list, j); if (member[o]) upLinks[Gen(m), Gen(o)]++; }
            }
        }

        Console.WriteLine($"upper-layer members: first {upper[0]}, later {upper[1]}; upper links ff {upLinks[0, 0]} fl {upLinks[0, 1]} lf {upLinks[1, 0]} ll {upLinks[1, 1]}");

        // Upper levels: per level, cluster members present, in-links from outside the cluster, reach from the entry.
        long entryPacked = g.EntryForPersistence;
        int entryNode = (int)(entryPacked & 0xFFFFFFFF), entryLevel = (int)(entryPacked >> 32);
        Console.WriteLine($"entry node {entryNode} level {entryLevel}, member {member[entryNode]}");
        for (int level = entryLevel; level >= 0; level--)
        {
            int present = members.Count(m => nodes.Level(m) >= level);
            long inFromOutside = 0;
            var reach = new HashSet<int> { entryNode };
            var stack = new Stack<int>();
            stack.Push(entryNode);
            while (stack.Count > 0)
            {
                int x = stack.Pop();
                ref int list = ref nodes.LinksRef(x, level);
                for (int j = 1; j <= list; j++) { int o = System.Runtime.CompilerServices.Unsafe.Add(ref list, j); if (!member[x] && member[o]) inFromOutside++; if (reach.Add(o)) stack.Push(o); }
            }
            Console.WriteLine($"  level {level}: cluster nodes {present}, reached from entry {members.Count(m => nodes.Level(m) >= level && reach.Contains(m))}, in-links from reached outside nodes {inFromOutside}");
        }

        // Fresh queries.
        var qrng = new Random(seed + 1);
        var qs = new float[queries][];
        for (int i = 0; i < queries; i++)
        {
            qs[i] = new float[dim];
            for (int d = 0; d < dim; d++) qs[i][d] = center[d] + (sigma * Gauss(qrng));
        }

        var truth = new HashSet<long>[queries];
        var truthGen = new int[2];
        for (int i = 0; i < queries; i++)
        {
            fixed (float* qp = qs[i])
            {
                float* qq = qp;
                var best = members.Select(b => (D: L2(qq, nodes.Vector(b), dim), b)).OrderBy(x => x.D).Take(10).ToList();
                truth[i] = best.Select(x => nodes.Key(x.b)).ToHashSet();
                foreach (var (_, b) in best) truthGen[Gen(b)]++;
            }
        }

        int descentInCluster = 0, descentInIsland = 0, outsideFindsMainNoIsland = 0, outsideFindsMainWithIsland = 0;
        for (int i = 0; i < queries; i++)
        {
            fixed (float* qp = qs[i])
            {
                int cur = entryNode;
                float cd = L2(qp, nodes.Vector(cur), dim);
                for (int level = entryLevel; level > 0; level--)
                {
                    bool changed = true;
                    while (changed)
                    {
                        changed = false;
                        ref int list = ref nodes.LinksRef(cur, level);
                        for (int j = 1; j <= list; j++) { int o = System.Runtime.CompilerServices.Unsafe.Add(ref list, j); float d = L2(qp, nodes.Vector(o), dim); if (d < cd) { cd = d; cur = o; changed = true; } }
                    }
                }
                if (member[cur]) descentInCluster++;
                else
                {
                    // Layer-0 beam (ef 200) from this outside landing point, island nodes treated as absent: does it reach the cluster?
                    foreach (bool skipIsland in new[] { true, false })
                    {
                        var visited = new HashSet<int> { cur };
                        var cand = new PriorityQueue<int, float>();
                        var res = new PriorityQueue<int, float>(Comparer<float>.Create((a, b) => b.CompareTo(a)));
                        float d0 = L2(qp, nodes.Vector(cur), dim);
                        cand.Enqueue(cur, d0); res.Enqueue(cur, d0);
                        while (cand.TryDequeue(out int x, out float dx))
                        {
                            res.TryPeek(out _, out float worstD);
                            if (dx > worstD && res.Count >= 200) break;
                            int* l = nodes.Links0(x);
                            for (int j = 1; j <= l[0]; j++)
                            {
                                int y = l[j];
                                if (!visited.Add(y) || (skipIsland && islandSets.Count > 0 && islandSets[0].Contains(y))) continue;
                                float dy = L2(qp, nodes.Vector(y), dim);
                                res.TryPeek(out _, out float wd);
                                if (res.Count < 200 || dy < wd) { cand.Enqueue(y, dy); res.Enqueue(y, dy); if (res.Count > 200) res.Dequeue(); }
                            }
                        }
                        int inMain = 0;
                        while (res.TryDequeue(out int r, out _)) if (member[r] && !(islandSets.Count > 0 && islandSets[0].Contains(r))) inMain++;
                        if (inMain > 0) { if (skipIsland) outsideFindsMainNoIsland++; else outsideFindsMainWithIsland++; }
                    }
                }
                if (islandSets.Count > 0 && islandSets[0].Contains(cur)) descentInIsland++;
            }
        }
        Console.WriteLine($"upper-layer descent of the {queries} queries ends in the cluster: {descentInCluster} (in the island {descentInIsland}); of those ending outside, an ef-200 layer-0 beam from there reaches the main component: with the island in the graph {outsideFindsMainWithIsland}, with island nodes skipped {outsideFindsMainNoIsland}");
        foreach (int width in new[] { 1, 4, 16, 64, 200 })
        {
            int inside = 0;
            for (int i = 0; i < queries; i++)
            {
                fixed (float* qp = qs[i])
                {
                    var beam = new List<int> { entryNode };
                    for (int level = entryLevel; level > 0; level--)
                    {
                        var visited = new HashSet<int>(beam);
                        var cand = new PriorityQueue<int, float>();
                        var res = new PriorityQueue<int, float>(Comparer<float>.Create((a, b) => b.CompareTo(a)));
                        foreach (int b in beam) { float db = L2(qp, nodes.Vector(b), dim); cand.Enqueue(b, db); res.Enqueue(b, db); }
                        while (res.Count > width) res.Dequeue();
                        while (cand.TryDequeue(out int x, out float dx))
                        {
                            res.TryPeek(out _, out float worstD);
                            if (dx > worstD && res.Count >= width) break;
                            ref int list = ref nodes.LinksRef(x, level);
                            for (int j = 1; j <= list; j++)
                            {
                                int y = System.Runtime.CompilerServices.Unsafe.Add(ref list, j);
                                if (!visited.Add(y)) continue;
                                float dy = L2(qp, nodes.Vector(y), dim);
                                res.TryPeek(out _, out float wd);
                                if (res.Count < width || dy < wd) { cand.Enqueue(y, dy); res.Enqueue(y, dy); if (res.Count > width) res.Dequeue(); }
                            }
                        }
                        beam = new List<int>();
                        while (res.TryDequeue(out int r, out _)) beam.Add(r);
                    }
                    if (beam.Any(b => member[b])) inside++;
                }
            }
            Console.WriteLine($"upper-layer beam of width {width}: the level-1 beam holds a cluster node for {inside} of {queries} queries");
        }

        Console.WriteLine($"true 10-NN of the {queries} queries: first {truthGen[0]}, later {truthGen[1]}");
        foreach (int ef in efs)
        {
            double hit = 0;
            int below = 0;
            int[] foundGen = new int[2], missedGen = new int[2];
            int inIslandFirst = 0;
            for (int i = 0; i < queries; i++)
            {
                var res = index.Search(qs[i], 10, null, ef);
                int h = 0;
                foreach (var r in res) if (truth[i].Contains(r.Key)) h++;
                foreach (long key in truth[i])
                {
                    bool found = res.Any(r => r.Key == key);
                    if (found) foundGen[key <= split ? 0 : 1]++; else missedGen[key <= split ? 0 : 1]++;
                }

                hit += h / 10.0;
                if (islandSets.Count > 0) { var k0 = res.Length > 0 ? res[0].Key : -1; if (res.Length > 0 && islandSets[0].Any(m => nodes.Key(m) == k0)) inIslandFirst++; }
                if (h < 5) below++;
            }

            Console.WriteLine($"ef {ef,5}: recall@10 {hit / queries:F3}, queries < 0.5: {below}; missed first {missedGen[0]}/{missedGen[0] + foundGen[0]}, missed later {missedGen[1]}/{missedGen[1] + foundGen[1]}; top result in island {inIslandFirst}");
        }
    }

    private static float L2(float* a, float* b, int dim)
    {
        float s = 0;
        for (int i = 0; i < dim; i++) { float d = a[i] - b[i]; s += d * d; }
        return s;
    }

    private static float Gauss(Random r)
    {
        double u1 = 1.0 - r.NextDouble(), u2 = r.NextDouble();
        return (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
