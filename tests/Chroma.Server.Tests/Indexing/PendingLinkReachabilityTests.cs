using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Indexing.Internal;
using Chroma.Server.Tests.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// Staged vectors leave the exactly scanned tail only once a search can reach them: a node linked with no in-link (here
/// reproducibly, ten clusters at M 4 linked one by one) would be returned by no search until the next reconnect pass,
/// so a query right after its acknowledgement could miss it. The link step checks the new nodes and runs the pass first.
/// </summary>
[TestFixture]
public sealed class PendingLinkReachabilityTests : IndexBuildThreadsFixture
{
    [Test, CancelAfter(60_000)]
    public async Task LinkPendingAsync_NodesLeftWithoutInLinks_ReconnectedBeforeTheyLeaveTheTail(CancellationToken cancellationToken)
    {
        // Arrange: the same vectors and links as HnswIndexConnectivityTests' graph with 22 unreachable nodes, staged
        // behind one vector already in the graph.
        var vectors = TestVectors.Clustered(3_000, 16, clusters: 10, seed: 2);
        var graph = new HnswIndex(new HnswOptions { Dimension = 16, M = 4, EfConstruction = 50 });
        graph.Add(0, vectors[0]);
        var reconnects = new List<ReconnectResult>();
        using var index = new AdaptiveVectorIndex(
            new HnswVectorIndex(graph, new Dictionary<string, int>(StringComparer.Ordinal) { ["training"] = 0 }),
            Settings with { Reconnected = reconnects.Add });
        for (var i = 1; i < vectors.Length; i++)
        {
            index.Stage(i, vectors[i], "training");
        }

        // Act: linked one at a time, in order, as the reproducible build was.
        var linked = await index.LinkPendingAsync(vectors.Length, (count, body) =>
        {
            for (var i = 0; i < count; i++)
            {
                body(i);
            }

            return Task.CompletedTask;
        }).WaitAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(linked, Is.EqualTo(vectors.Length - 1));
            Assert.That(reconnects, Is.Not.Empty, "a pass ran before the nodes left the tail");
            Assert.That(reconnects.Sum(r => r.Linked), Is.GreaterThan(0));
            Assert.That(index.PendingCount, Is.Zero);
            Assert.That(graph.Connectivity(), Is.EqualTo((0, 0)), "every node reachable and linked to");
            Assert.That(
                Enumerable.Range(0, vectors.Length).Count(i => graph.Search(vectors[i], 1, ef: vectors.Length)[0].Key != i),
                Is.Zero,
                "a search finds every stored vector");
        });
    }
}
