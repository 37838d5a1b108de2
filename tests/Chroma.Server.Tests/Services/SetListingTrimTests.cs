using Chroma.Protocol.V1;
using Chroma.Server.Services;
using Chroma.Server.Services.Internal;
using Google.Protobuf;

namespace Chroma.Server.Tests.Services;

/// <summary>
/// An unpaged ListSets answer kept within what a stock gRPC client accepts (probe X, X10): drift histories are cut to
/// their most recent points, the same number for every set, only when the answer would pass the limit.
/// </summary>
[TestFixture]
public sealed class SetListingTrimTests
{
    private const int Budget = QueryService.StockClientMessageLimit - (64 * 1024);

    [Test]
    public void Fit_ThousandsOfSetsWithFullHistories_CutsEachToItsMostRecentPointsWithinTheLimit()
    {
        // Arrange: 2,500 sets of 50 drift points each, about 5 MB in all
        var response = Listing(sets: 2_500, points: 50);
        var before = response.CalculateSize();

        // Act
        var trimmed = SetListingTrim.Fit(response.Sets, Budget);

        // Assert
        var kept = response.Sets.Select(s => s.DriftHistory.Count).Distinct().ToList();
        Assert.Multiple(() =>
        {
            Assert.That(before, Is.GreaterThan(QueryService.StockClientMessageLimit));
            Assert.That(trimmed, Is.True);
            Assert.That(response.CalculateSize(), Is.LessThanOrEqualTo(Budget));
            Assert.That(kept, Has.Count.EqualTo(1));
            Assert.That(kept[0], Is.InRange(1, 49));
            Assert.That(response.Sets[0].DriftHistory[^1].ThroughSequence, Is.EqualTo(50), "the most recent point kept");
            Assert.That(response.Sets[0].DriftHistory[0].ThroughSequence, Is.EqualTo(51 - kept[0]), "oldest first");
            Assert.That(response.Sets[0].Drift.ThroughSequence, Is.EqualTo(50));
        });
    }

    [Test]
    public void Fit_OneMorePointPerSet_WouldPassTheBudget()
    {
        // Arrange
        var response = Listing(sets: 2_500, points: 50);

        // Act
        SetListingTrim.Fit(response.Sets, Budget);

        // Assert: the most that fits, not fewer
        var kept = response.Sets[0].DriftHistory.Count;
        Assert.That(SetListingTrim.SizeKeeping(Listing(sets: 2_500, points: 50).Sets, kept + 1), Is.GreaterThan(Budget));
    }

    [Test]
    public void Fit_AnswerWithinTheLimit_IsLeftWhole()
    {
        // Arrange
        var response = Listing(sets: 500, points: 50);
        var before = response.ToByteArray();

        // Act
        var trimmed = SetListingTrim.Fit(response.Sets, Budget);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(trimmed, Is.False);
            Assert.That(response.ToByteArray(), Is.EqualTo(before));
        });
    }

    [Test]
    public void SizeKeeping_EveryPoint_IsTheSerializedSize()
    {
        // Arrange
        var response = Listing(sets: 30, points: 50);

        // Act
        var size = SetListingTrim.SizeKeeping(response.Sets, 50);

        // Assert
        Assert.That(size, Is.EqualTo(response.CalculateSize()));
    }

    private static ListSetsResponse Listing(int sets, int points)
    {
        var response = new ListSetsResponse();
        for (var s = 0; s < sets; s++)
        {
            var info = new EmbeddingSetInfo
            {
                SetId = $"model-{s}/1/fc",
                Descriptor_ = new EmbeddingSetDescriptor { Model = $"model-{s}", ModelVersion = "1", Layer = "fc", Dimension = 128 },
                TotalRecords = 1_000_000 + s,
                Index = new SetIndexInfo { Kind = IndexKind.Hnsw, IndexedCount = 1_000_000, GraphCount = 1_000_000, SearchBreadth = 64 },
            };
            info.Datasets.Add(new DatasetCount { Dataset = "production", Count = 900_000 });
            for (var p = 1; p <= points; p++)
            {
                info.DriftHistory.Add(new Drift
                {
                    Mmd2 = 0.001 * p + s,
                    PValue = 1.0 / (p + 1),
                    ComputedUnixMs = 1_765_000_000_000 + p,
                    TrainingSample = 2_000,
                    ProductionSample = 2_000,
                    ThroughSequence = p,
                });
            }

            info.Drift = info.DriftHistory[^1].Clone();
            response.Sets.Add(info);
        }

        return response;
    }
}
