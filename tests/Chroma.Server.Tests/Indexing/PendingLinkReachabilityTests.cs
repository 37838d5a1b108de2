using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Indexing.Internal;
using Chroma.Server.Tests.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// A node linked with no in-link (a neighbour's list, pruned by an insert beside it, dropped it; here reproducibly, ten
/// clusters at M 4 linked one by one) would be returned by no search until the next reconnect pass, so a query right
/// after its acknowledgement could miss it. The link step links such nodes in before they leave the staged tail.
/// </summary>
[TestFixture]
public sealed class PendingLinkReachabilityTests : IndexBuildThreadsFixture
{
    [Test, CancelAfter(60_000)]
    public async Task LinkPendingAsync_NodesLeftWithoutInLinks_ReconnectedBeforeTheyLeaveTheTail(CancellationToken cancellationToken)
    {
        // Arrange: the same vectors and links as HnswIndexConnectivityTests' graph with 22 unreachable nodes, staged
        // behind one vector already in the graph.
        var (vectors, graph, index) = StagedBehindOneNode();
        using var disposeIndex = index;
        for (var i = 1; i < vectors.Length; i++)
        {
            index.Stage(i, vectors[i], "training");
        }

        // Act: linked one at a time, in order, as the reproducible build was.
        var linked = await index.LinkPendingAsync(vectors.Length, InOrder).WaitAsync(cancellationToken);

        // Assert: every node linked to from its own neighbourhood or found by a search for its vector; a group cut off
        // whole (its nodes link to one another) is left to the periodic pass, so a few may stay unreachable of the 22.
        var unfound = Enumerable.Range(0, vectors.Length).Where(i => graph.Search(vectors[i], 1, ef: vectors.Length)[0].Key != i).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(linked, Is.EqualTo(vectors.Length - 1));
            Assert.That(index.PendingCount, Is.Zero);
            Assert.That(unfound.Where(i => !graph.LinkedBack(i)), Is.Empty, "no node is left that nothing near it links to");
            Assert.That(unfound, Has.Length.LessThan(22 / 4), "the 22 unreachable nodes this order leaves without the check");
            Assert.That(graph.Connectivity().WithoutInLinks, Is.Zero, "every node is linked to");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task LinkPendingAsync_InBatches_NoEarlierNodeLeftWithoutInLinks(CancellationToken cancellationToken)
    {
        // Arrange: the same clustered vectors at M 4, where pruning a full list often drops a node linked earlier.
        var (vectors, graph, index) = StagedBehindOneNode();
        using var disposeIndex = index;
        var withoutInLinks = new List<int>();
        const int batch = 100;

        // Act: staged and linked a batch at a time, as the worker does; after each batch, count the nodes that no node
        // links to (those of earlier batches have left the staged tail, so only the graph can return them).
        for (var start = 1; start < vectors.Length; start += batch)
        {
            for (var i = start; i < Math.Min(start + batch, vectors.Length); i++)
            {
                index.Stage(i, vectors[i], "training");
            }

            await index.LinkPendingAsync(batch, InOrder).WaitAsync(cancellationToken);
            withoutInLinks.Add(graph.Connectivity().WithoutInLinks);
        }

        // Assert: after every batch, every node is linked to by some node.
        Assert.That(withoutInLinks, Has.All.Zero, "nodes without in-links after each batch");
    }

    // The same vectors and links as HnswIndexConnectivityTests' graph with 22 unreachable nodes (ten clusters, M 4): one
    // vector in the graph, the others for the test to stage behind it.
    private (float[][] Vectors, HnswIndex Graph, AdaptiveVectorIndex Index) StagedBehindOneNode()
    {
        var vectors = TestVectors.Clustered(3_000, 16, clusters: 10, seed: 2);
        var graph = new HnswIndex(new HnswOptions { Dimension = 16, M = 4, EfConstruction = 50 });
        graph.Add(0, vectors[0]);
        var index = new AdaptiveVectorIndex(
            new HnswVectorIndex(graph, new Dictionary<string, int>(StringComparer.Ordinal) { ["training"] = 0 }),
            Settings);
        return (vectors, graph, index);
    }

    // Links one at a time, in order, as the reproducible build did.
    private static Task InOrder(int count, Action<int> body)
    {
        for (var i = 0; i < count; i++)
        {
            body(i);
        }

        return Task.CompletedTask;
    }
}
