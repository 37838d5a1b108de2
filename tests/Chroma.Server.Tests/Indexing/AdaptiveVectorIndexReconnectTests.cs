using System.Collections.Concurrent;
using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Tests.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing;

/// <summary>A set's graph links in nodes no search reaches: at the end of a build, after a load, and as it grows.</summary>
[TestFixture]
public sealed class AdaptiveVectorIndexReconnectTests : IndexBuildThreadsFixture
{
    private const int Dimension = 16;

    [Test, CancelAfter(60_000)]
    public async Task BuildCompletion_CheckpointWithUnreachableNodes_TheBuiltGraphReachesEveryNode()
    {
        // Arrange: a checkpoint whose graph (ten separated clusters, M = 4, built one by one) has unreachable nodes; the
        // build resumes from it and inserts 500 more vectors.
        var vectors = TestVectors.Clustered(3_500, Dimension, clusters: 10, seed: 2);
        var checkpoint = Graph(vectors[..3_000]);
        var (unreachable, _) = checkpoint.Graph.Connectivity();
        Assume.That(unreachable, Is.GreaterThan(0));
        var heard = new ConcurrentQueue<ReconnectResult>();
        using var index = new AdaptiveVectorIndex(Dimension, threshold: 1_000, Settings with { Reconnected = heard.Enqueue }, checkpoint);
        AdaptiveIndexInternals.Fill(index, vectors);

        // Act
        Assert.That(index.StartBuildIfLarge(), Is.True);
        await index.BuildCompletion;

        // Assert
        Assert.That(index.ResumedVectors, Is.EqualTo(3_000), "the checkpoint's graph was kept");
        Assert.That(index.Hnsw!.Graph.Connectivity(), Is.EqualTo((0, 0)));
        Assert.That(heard.Single().Linked, Is.GreaterThan(0), "the pass was reported");
        Assert.That(heard.Single().Unreachable, Is.Zero);
        Assert.That(index.StartReconnectIfDue(), Is.False, "not due right after the build's pass");
    }

    [Test, CancelAfter(60_000)]
    public async Task StartReconnectIfDue_LoadedGraphThenGrowth_RunsOnceAfterTheLoadAndAgainAfterAnEighthMore()
    {
        // Arrange: a graph read from a file is checked once; then only after ReconnectEvery more vectors (4,096 here,
        // more than an eighth of 5,000).
        var vectors = TestVectors.Clustered(3_000 + HnswVectorIndex.ReconnectEvery, Dimension, clusters: 10, seed: 2);
        var loaded = Graph(vectors[..3_000]);
        Assume.That(loaded.Graph.Connectivity().Unreachable, Is.GreaterThan(0));
        var heard = new ConcurrentQueue<ReconnectResult>();
        using var index = new AdaptiveVectorIndex(loaded, Settings with { Reconnected = heard.Enqueue });

        // A load catches the graph up with the store's later records before the first check.
        index.Add(vectors.Length, vectors[0].Select(x => x + 0.5f).ToArray(), "training");

        // Act / Assert
        Assert.That(index.StartReconnectIfDue(), Is.True, "a loaded graph is checked, records added since or not");
        await index.ReconnectCompletion;
        Assert.That(heard.Single().Linked, Is.GreaterThan(0));
        Assert.That(loaded.Graph.Connectivity(), Is.EqualTo((0, 0)));
        Assert.That(index.StartReconnectIfDue(), Is.False, "not due again at once");

        for (var i = 3_000; i < vectors.Length - 1; i++)
        {
            index.Add(i, vectors[i], "training");
        }

        Assert.That(index.StartReconnectIfDue(), Is.False, "one vector short of ReconnectEvery");
        index.Add(vectors.Length - 1, vectors[^1], "training");
        Assert.That(index.StartReconnectIfDue(), Is.True);
        await index.ReconnectCompletion;
        Assert.That(loaded.Graph.Connectivity().Unreachable, Is.Zero);
    }

    /// <summary>A graph of M = 4 built one vector at a time (reproducible) as sequences 0.. of dataset "training", wrapped as a loaded file is.</summary>
    private static HnswVectorIndex Graph(float[][] vectors)
    {
        var graph = new HnswIndex(new HnswOptions { Dimension = Dimension, M = 4, EfConstruction = 50 });
        for (var i = 0; i < vectors.Length; i++)
        {
            graph.Add(i, vectors[i], tag: 0);
        }

        return new HnswVectorIndex(graph, new Dictionary<string, int> { ["training"] = 0 });
    }
}
