using System.Numerics.Tensors;
using Chroma.Server.Cli.Report;

namespace Chroma.Server.Web.Internal;

/// <summary>
/// A UMAP-style neighbourhood-preserving 2-D map (McInnes, Healy and Melville, 2018), written here in C#: the
/// sample is reduced to its top principal subspace (<see cref="SubspaceReduction"/>), each row's
/// <see cref="Neighbors"/> nearest rows form a fuzzy graph (distances scaled per row so each row's neighbourhood
/// weighs log2(k)), and a layout that starts from PCA is optimised by stochastic gradient descent: neighbours
/// attract, random rows (negative samples) repel. A later record is placed by its nearest fitted rows (a
/// weighted mean of their positions; a fitted row lands exactly on its own), so the map grows without refitting
/// until <see cref="MapProjections"/> decides the set has grown enough. Deterministic for a seed.
/// Not thread-safe: <see cref="Project"/> reuses scratch buffers (the map's lock serialises it).
/// </summary>
internal sealed class NeighborEmbedding : IMapProjection
{
    /// <summary>Nearest rows in the fuzzy graph (UMAP's <c>n_neighbors</c>).</summary>
    public const int Neighbors = 15;

    /// <summary>Fitted rows a later record is placed by.</summary>
    public const int PlacementNeighbors = 10;

    // min_dist 0.1, spread 1.0: UMAP's curve 1 / (1 + a d^2b) fitted to its defaults.
    private const float A = 1.5769435f;
    private const float B = 0.8950609f;
    private const int NegativeSampleRate = 5;
    private const float GradientClip = 4f;
    private const float LayoutScale = 10f;

    private readonly SubspaceReduction _reduction;
    private readonly float[][] _columns; // reduced dimension × rows: dot products with all rows are a few SIMD passes
    private readonly float[] _squaredNorms;
    private readonly float[] _layoutX;
    private readonly float[] _layoutY;
    private readonly float[] _reduced;
    private readonly float[] _dots;

    private NeighborEmbedding(SubspaceReduction reduction, float[][] rows, float[] layoutX, float[] layoutY)
    {
        _reduction = reduction;
        var n = rows.Length;
        _columns = new float[reduction.Dimension][];
        for (var k = 0; k < _columns.Length; k++)
        {
            _columns[k] = new float[n];
            for (var r = 0; r < n; r++)
            {
                _columns[k][r] = rows[r][k];
            }
        }

        _squaredNorms = [.. rows.Select(r => TensorPrimitives.Dot(r, r))];
        _layoutX = layoutX;
        _layoutY = layoutY;
        _reduced = new float[reduction.Dimension];
        _dots = new float[n];
    }

    /// <inheritdoc />
    public string Name => "UMAP";

    /// <inheritdoc />
    public IReadOnlyList<double> Variances => [];

    /// <summary>Gets how many rows the layout was fitted on.</summary>
    public int FittedRows => _layoutX.Length;

    /// <summary>Fits the map to <paramref name="rows"/> (equal lengths, at least one row) with <paramref name="epochs"/> passes of gradient descent.</summary>
    public static NeighborEmbedding Fit(IReadOnlyList<float[]> rows, int epochs = 200, int seed = 42)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfZero(rows.Count, nameof(rows));
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        foreach (var row in rows)
        {
            if (row.Length != rows[0].Length)
            {
                throw new ArgumentException($"every row needs {rows[0].Length} values; one has {row.Length}.", nameof(rows));
            }
        }

#pragma warning disable CA5394 // Seeded for a reproducible map, not security.
        var random = new Random(seed);
        var reduction = SubspaceReduction.Fit(rows, random);
        var reduced = rows.Select(r =>
        {
            var x = new float[reduction.Dimension];
            reduction.Reduce(r, x);
            return x;
        }).ToArray();
        var (layoutX, layoutY) = InitialLayout(reduced);
        var embedding = new NeighborEmbedding(reduction, reduced, layoutX, layoutY);
        if (rows.Count > 2)
        {
            var graph = FuzzyGraph.Build(embedding, reduced, Math.Min(Neighbors, rows.Count - 1));
            Optimize(layoutX, layoutY, graph, epochs, random);
        }
#pragma warning restore CA5394

        return embedding;
    }

    /// <inheritdoc />
    public (float X, float Y) Project(ReadOnlySpan<float> embedding)
    {
        _reduction.Reduce(embedding, _reduced);
        var (indexes, squared) = Nearest(_reduced, Math.Min(PlacementNeighbors, _layoutX.Length), exclude: -1);
        var scale = 1f + TensorPrimitives.Dot(_reduced, _reduced);
        if (squared[0] <= 1e-9f * scale)
        {
            return (_layoutX[indexes[0]], _layoutY[indexes[0]]);
        }

        // The same kernel as the graph: the nearest counts fully, the others fall off by how much farther they are.
        var distances = squared.Select(MathF.Sqrt).ToArray();
        var spread = Math.Max(distances.Average() - distances[0], 1e-6f);
        float x = 0, y = 0, total = 0;
        for (var i = 0; i < indexes.Length; i++)
        {
            var w = MathF.Exp(-(distances[i] - distances[0]) / spread);
            x += w * _layoutX[indexes[i]];
            y += w * _layoutY[indexes[i]];
            total += w;
        }

        return (x / total, y / total);
    }

    /// <summary>The <paramref name="k"/> fitted rows nearest <paramref name="reduced"/> (nearest first) and their squared distances.</summary>
    internal (int[] Indexes, float[] SquaredDistances) Nearest(ReadOnlySpan<float> reduced, int k, int exclude)
    {
        Array.Clear(_dots);
        for (var d = 0; d < _columns.Length; d++)
        {
            TensorPrimitives.MultiplyAdd(_columns[d], reduced[d], _dots, _dots);
        }

        var norm = TensorPrimitives.Dot(reduced, reduced);
        var indexes = new int[k];
        var best = new float[k];
        Array.Fill(best, float.PositiveInfinity);
        for (var r = 0; r < _dots.Length; r++)
        {
            var d2 = Math.Max(0f, _squaredNorms[r] + norm - (2 * _dots[r]));
            if (r == exclude || d2 >= best[k - 1])
            {
                continue;
            }

            var at = k - 1;
            while (at > 0 && best[at - 1] > d2)
            {
                best[at] = best[at - 1];
                indexes[at] = indexes[at - 1];
                at--;
            }

            best[at] = d2;
            indexes[at] = r;
        }

        return (indexes, best);
    }

    // PCA of the reduced rows, scaled into [-10, 10]: a start that already has the global arrangement right.
    private static (float[] X, float[] Y) InitialLayout(float[][] reduced)
    {
        var pca = PrincipalComponents.Fit(reduced);
        var x = new float[reduced.Length];
        var y = new float[reduced.Length];
        float max = 1e-12f;
        for (var i = 0; i < reduced.Length; i++)
        {
            var (px, py) = pca.Project(reduced[i]);
            x[i] = (float)px;
            y[i] = (float)py;
            max = Math.Max(max, Math.Max(Math.Abs(x[i]), Math.Abs(y[i])));
        }

        TensorPrimitives.Multiply(x, LayoutScale / max, x);
        TensorPrimitives.Multiply(y, LayoutScale / max, y);
        return (x, y);
    }

    private static void Optimize(float[] x, float[] y, FuzzyGraph graph, int epochs, Random random)
    {
        var edges = graph.Heads.Length;
        var maxWeight = graph.Weights.Max();
        var epochsPerSample = new float[edges];
        var nextSample = new float[edges];
        var nextNegative = new float[edges];
        for (var e = 0; e < edges; e++)
        {
            epochsPerSample[e] = maxWeight / graph.Weights[e];
            nextSample[e] = epochsPerSample[e];
            nextNegative[e] = epochsPerSample[e] / NegativeSampleRate;
        }

        var n = x.Length;
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            var alpha = 1f - (epoch / (float)epochs);
            for (var e = 0; e < edges; e++)
            {
                if (nextSample[e] > epoch + 1)
                {
                    continue;
                }

                int j = graph.Heads[e], k = graph.Tails[e];
                var dx = x[j] - x[k];
                var dy = y[j] - y[k];
                var d2 = (dx * dx) + (dy * dy);
                if (d2 > 0)
                {
                    var coefficient = -2f * A * B * MathF.Pow(d2, B - 1f) / ((A * MathF.Pow(d2, B)) + 1f);
                    var gx = Clip(coefficient * dx) * alpha;
                    var gy = Clip(coefficient * dy) * alpha;
                    x[j] += gx;
                    y[j] += gy;
                    x[k] -= gx;
                    y[k] -= gy;
                }

                nextSample[e] += epochsPerSample[e];
                var negatives = (int)((epoch + 1 - nextNegative[e]) / (epochsPerSample[e] / NegativeSampleRate));
                for (var s = 0; s < negatives; s++)
                {
#pragma warning disable CA5394 // Seeded sampling for a reproducible map.
                    var other = random.Next(n);
#pragma warning restore CA5394
                    if (other == j)
                    {
                        continue;
                    }

                    dx = x[j] - x[other];
                    dy = y[j] - y[other];
                    d2 = (dx * dx) + (dy * dy);
                    if (d2 > 0)
                    {
                        var coefficient = 2f * B / ((0.001f + d2) * ((A * MathF.Pow(d2, B)) + 1f));
                        x[j] += Clip(coefficient * dx) * alpha;
                        y[j] += Clip(coefficient * dy) * alpha;
                    }
                }

                nextNegative[e] += negatives * (epochsPerSample[e] / NegativeSampleRate);
            }
        }
    }

    private static float Clip(float value) => Math.Clamp(value, -GradientClip, GradientClip);

    /// <summary>The symmetric fuzzy k-nearest-neighbour graph as directed edges (both directions of each pair).</summary>
    private sealed class FuzzyGraph
    {
        private FuzzyGraph(int[] heads, int[] tails, float[] weights)
        {
            Heads = heads;
            Tails = tails;
            Weights = weights;
        }

        public int[] Heads { get; }

        public int[] Tails { get; }

        public float[] Weights { get; }

        public static FuzzyGraph Build(NeighborEmbedding embedding, float[][] reduced, int k)
        {
            var n = reduced.Length;
            var directed = new Dictionary<long, float>(n * k);
            var target = MathF.Log2(k);
            for (var i = 0; i < n; i++)
            {
                var (indexes, squared) = embedding.Nearest(reduced[i], k, exclude: i);
                var distances = squared.Select(MathF.Sqrt).ToArray();
                var rho = distances.FirstOrDefault(d => d > 0);
                var sigma = Bandwidth(distances, rho, target);
                for (var m = 0; m < k; m++)
                {
                    directed[((long)i * n) + indexes[m]] = MathF.Exp(-Math.Max(0f, distances[m] - rho) / sigma);
                }
            }

            // Fuzzy union: w(i,j) + w(j,i) - w(i,j) w(j,i), kept in both directions.
            var heads = new List<int>(directed.Count * 2);
            var tails = new List<int>(directed.Count * 2);
            var weights = new List<float>(directed.Count * 2);
            foreach (var (key, w) in directed)
            {
                int i = (int)(key / n), j = (int)(key % n);
                var reverse = directed.GetValueOrDefault(((long)j * n) + i);
                if (reverse > 0 && j < i)
                {
                    continue; // the pair is added once, from its smaller end
                }

                var union = w + reverse - (w * reverse);
                heads.Add(i);
                tails.Add(j);
                weights.Add(union);
                heads.Add(j);
                tails.Add(i);
                weights.Add(union);
            }

            return new FuzzyGraph([.. heads], [.. tails], [.. weights]);
        }

        // The scale sigma with sum_j exp(-(d_j - rho) / sigma) = log2(k), by bisection.
        private static float Bandwidth(float[] distances, float rho, float target)
        {
            float low = 0, high = float.PositiveInfinity, sigma = 1;
            for (var step = 0; step < 64; step++)
            {
                var sum = 0f;
                foreach (var d in distances)
                {
                    sum += MathF.Exp(-Math.Max(0f, d - rho) / sigma);
                }

                if (Math.Abs(sum - target) < 1e-5f)
                {
                    break;
                }

                if (sum > target)
                {
                    high = sigma;
                    sigma = (low + high) / 2;
                }
                else
                {
                    low = sigma;
                    sigma = float.IsPositiveInfinity(high) ? sigma * 2 : (low + high) / 2;
                }
            }

            // Never narrower than a thousandth of the mean distance (UMAP's MIN_K_DIST_SCALE).
            return Math.Max(sigma, 1e-3f * Math.Max(distances.Average(), 1e-12f));
        }
    }
}
