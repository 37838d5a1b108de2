using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

/// <summary>
/// What a cosine set's metric governs, as the proto documents it (<c>EmbeddingSetDescriptor.metric</c>): the
/// neighbour signals compare directions, so a record and the same record three times as long have the same kNN
/// distance and boundary share; the Mahalanobis signals measure the raw embedding, length included, in every set.
/// </summary>
public class CosineSetLengthTests
{
    private const int Dimension = 8;

    [Test]
    public void Score_CosineSet_NeighbourSignalsIgnoreLengthWhileMahalanobisReadsIt()
    {
        var scored = ScoreRecordsAndTheirTriples(NeighborMetric.Cosine);

        Assert.Multiple(() =>
        {
            for (var i = 0; i < 3; i++)
            {
                foreach (var kind in new[] { SignalKind.KnnDistance, SignalKind.Boundary })
                {
                    var plain = scored[i].Signal(kind)!.Value;
                    var tripled = scored[i + 3].Signal(kind)!.Value;
                    Assert.That(tripled.Value, Is.EqualTo(plain.Value).Within(1e-5), $"{kind} of record {i}");
                }

                Assert.That(scored[i].Signal(SignalKind.Mahalanobis)!.Value.Surprise, Is.LessThan(2), $"record {i} is ordinary");
                Assert.That(scored[i + 3].Signal(SignalKind.Mahalanobis)!.Value.Surprise, Is.GreaterThan(2), $"its triple is far from its class");
            }
        });
    }

    [Test]
    public void Score_L2Set_ATripledRecordIsFarByEveryDistance()
    {
        var scored = ScoreRecordsAndTheirTriples(NeighborMetric.L2);

        Assert.Multiple(() =>
        {
            for (var i = 0; i < 3; i++)
            {
                foreach (var kind in new[] { SignalKind.Mahalanobis, SignalKind.KnnDistance })
                {
                    Assert.That(scored[i].Signal(kind)!.Value.Surprise, Is.LessThan(2), $"{kind}: record {i} is ordinary");
                    Assert.That(scored[i + 3].Signal(kind)!.Value.Surprise, Is.GreaterThan(2), $"{kind}: its triple is far");
                }
            }
        });
    }

    // Three fresh records of the training classes, then the same three times 3.
    private static ScoredRecord[] ScoreRecordsAndTheirTriples(NeighborMetric metric)
    {
        var (embeddings, labels) = SyntheticEmbeddings.Clusters(3, 200, Dimension, 6, seed: 5);
        var model = RecommendationModel.Fit(new TrainingData(embeddings, Dimension, labels) { Metric = metric }, "v1");
        var (fresh, freshLabels) = SyntheticEmbeddings.Clusters(3, 1, Dimension, 6, seed: 77);
        var batch = new ProductionBatch(
            SyntheticEmbeddings.Ids(6),
            [.. fresh, .. fresh.Select(x => 3 * x)],
            Dimension,
            [.. freshLabels, .. freshLabels]);
        return RecommendationScorer.Score(model, batch);
    }
}
