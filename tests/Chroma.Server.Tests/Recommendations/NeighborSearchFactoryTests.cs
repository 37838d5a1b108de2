using System.Numerics.Tensors;
using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class NeighborSearchFactoryTests
{
    private const int Dimension = 6;

    [Test]
    public void Fit_CustomFactoryUnderCosine_ReceivesEveryTrainingRowAsUnitVectorOnceAndIsUsedForScoring()
    {
        var (embeddings, labels) = SyntheticEmbeddings.Clusters(2, 50, Dimension, 5, seed: 60);
        var calls = 0;
        float[]? received = null;
        RecordingSearch? search = null;
        NeighborMetric? receivedMetric = null;
        NeighborSearchFactory factory = (vectors, dimension, metric) =>
        {
            calls++;
            received = vectors;
            receivedMetric = metric;
            return search = new RecordingSearch(new BruteForceNeighborSearch(vectors, dimension, metric));
        };

        var model = RecommendationModel.Fit(new TrainingData(embeddings, Dimension, labels), "v1", factory);
        var queriesDuringFit = search!.Queries;
        RecommendationScorer.Score(model, new ProductionBatch(["a", "b"], new float[2 * Dimension], Dimension));

        Assert.That(calls, Is.EqualTo(1));
        Assert.That(receivedMetric, Is.EqualTo(NeighborMetric.Cosine));
        Assert.That(received!.Length, Is.EqualTo(labels.Length * Dimension));
        var norms = Enumerable.Range(0, labels.Length).Select(i => TensorPrimitives.Norm(received.AsSpan(i * Dimension, Dimension)));
        Assert.That(norms, Is.All.EqualTo(1f).Within(1e-5f));
        // Two searches per held-out record: one for its copies (TrainingCopies.NearCopies), one to measure it.
        Assert.That(queriesDuringFit, Is.EqualTo(2 * model.HeldOutCount));
        Assert.That(search.Queries, Is.EqualTo((2 * model.HeldOutCount) + 2));
    }

    private sealed class RecordingSearch(ITrainingNeighborSearch inner) : ITrainingNeighborSearch
    {
        private int _queries;

        public int Queries => Volatile.Read(ref _queries);

        public bool IsExact => inner.IsExact;

        public ITrainingNeighborSearch Broader(int factor) => this;

        public IReadOnlyList<(int TrainingIndex, float Distance)> Search(ReadOnlySpan<float> query, int k)
        {
            Interlocked.Increment(ref _queries);
            return inner.Search(query, k);
        }
    }
}
