using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Indexing.Internal;
using Chroma.Server.Tests.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// The recall estimate behind a set's default search breadth, on graphs with a known answer: copies of a vector are
/// interchangeable answers, and a set that holds many copies of a few inputs is estimated as its distinct inputs.
/// </summary>
[TestFixture]
public sealed class RecallEstimatorTests : IndexBuildThreadsFixture
{
    [TestCase(false)]
    [TestCase(true)]
    [CancelAfter(60_000)]
    public async Task EstimateAsync_EveryVectorStoredTwentyTimes_AnyCopyIsARightAnswerAndTheNarrowestBreadthServes(bool cosine, CancellationToken cancellationToken)
    {
        var metric = cosine ? HnswMetric.Cosine : HnswMetric.L2;

        // Arrange: 150 distinct clustered vectors, each stored 20 times (3,000 nodes): a query near one has 20 equally
        // near answers, of which any 10 are right.
        var distinct = TestVectors.Clustered(150, 16, clusters: 6, seed: 41);
        using var graph = TestVectors.Build([.. Enumerable.Range(0, 3_000).Select(i => distinct[i % 150])], metric);

        // Act
        var estimate = await RecallEstimator.EstimateAsync(graph, Threads, RecallEstimator.DefaultSampleSize, seed: 17, cancellationToken);

        // Assert: counted by id, which 10 of the 20 copies the truth and the search list is arbitrary (about half agree).
        Assert.Multiple(() =>
        {
            Assert.That(estimate!.RecallAt10, Is.GreaterThanOrEqualTo(RecallEstimator.TargetRecall));
            Assert.That(estimate.SearchBreadth, Is.EqualTo(64), "the narrowest breadth of the ladder");
            Assert.That(estimate.SampleSize, Is.InRange(1, 60), "each group of 20 copies drawn as often as one vector: about 800 / 20 of the candidates");
        });
    }
}
