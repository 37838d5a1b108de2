using Chroma.Protocol.V1;
using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Storage;

/// <summary>The set's metric: chosen by the batch that creates the set, stored with it, and enforced on every later batch.</summary>
public abstract partial class StoreContractTests
{
    private static EmbeddingSetDescriptor WithMetric(DistanceMetric metric)
    {
        var set = Records.Set();
        set.Metric = metric;
        return set;
    }

    [TestCase(nameof(DistanceMetric.Unspecified), nameof(DistanceMetric.L2))]
    [TestCase(nameof(DistanceMetric.L2), nameof(DistanceMetric.L2))]
    [TestCase(nameof(DistanceMetric.Cosine), nameof(DistanceMetric.Cosine))]
    [CancelAfter(30_000)]
    public async Task IngestAsync_NewSetWithMetric_StoresItAndReadsItBackAfterReopen(string requestedName, string expectedName)
    {
        var (requested, expected) = (Enum.Parse<DistanceMetric>(requestedName), Enum.Parse<DistanceMetric>(expectedName));
        // Arrange
        var set = WithMetric(requested);

        // Act
        await _fixture.IngestAsync(set, Records.Sequence(3, start: 1));
        var beforeReopen = _fixture.RequireSet(set).Metric;
        _fixture.Reopen();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(beforeReopen, Is.EqualTo(expected));
            Assert.That(_fixture.RequireSet(set).Metric, Is.EqualTo(expected), "FindSet after reopen");
            Assert.That(_fixture.RequireSet(set).Descriptor.Metric, Is.EqualTo(expected), "never unspecified once stored");
            Assert.That(_fixture.Store.ListSets().Single().Set.Metric, Is.EqualTo(expected), "ListSets");
        });
    }

    [TestCase(nameof(DistanceMetric.L2), nameof(DistanceMetric.Cosine))]
    [TestCase(nameof(DistanceMetric.Unspecified), nameof(DistanceMetric.Cosine))]
    [TestCase(nameof(DistanceMetric.Cosine), nameof(DistanceMetric.L2))]
    [CancelAfter(30_000)]
    public async Task IngestAsync_BatchNamesOtherMetricThanSet_RejectsNamingBothAndStoresNothing(string createdName, string requestedName)
    {
        var (created, requested) = (Enum.Parse<DistanceMetric>(createdName), Enum.Parse<DistanceMetric>(requestedName));
        // Arrange
        await _fixture.IngestAsync(WithMetric(created), Records.Sequence(2, start: 1));

        // Act
        var outcome = await _fixture.IngestAsync(WithMetric(requested), Records.Sequence(3, start: 10));

        // Assert
        var setMetric = created == DistanceMetric.Cosine ? "cosine" : "l2";
        var batchMetric = requested == DistanceMetric.Cosine ? "cosine" : "l2";
        Assert.Multiple(() =>
        {
            Assert.That(outcome.Error?.Kind, Is.EqualTo(IngestRejectionKind.MetricMismatch));
            Assert.That(outcome.Error?.Message, Does.StartWith($"set.metric: is {batchMetric}, but embedding set 'model/1/fc' was created with metric {setMetric}"));
            Assert.That(outcome.Error?.RecordIndex, Is.EqualTo(-1));
            Assert.That(_fixture.Store.CountRecords(_fixture.RequireSet(Records.Set()), RecordSelection.All), Is.EqualTo(2));
        });
    }

    [TestCase(nameof(DistanceMetric.Unspecified))]
    [TestCase(nameof(DistanceMetric.Cosine))]
    [CancelAfter(30_000)]
    public async Task IngestAsync_CosineSetThenUnspecifiedOrSameMetric_Accepts(string requestedName)
    {
        var requested = Enum.Parse<DistanceMetric>(requestedName);
        // Arrange
        await _fixture.IngestAsync(WithMetric(DistanceMetric.Cosine), Records.Sequence(2, start: 1));

        // Act
        var outcome = await _fixture.IngestAsync(WithMetric(requested), Records.Sequence(3, start: 10));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(outcome, Is.EqualTo(new IngestOutcome(3, 0, null)));
            Assert.That(_fixture.RequireSet(Records.Set()).Metric, Is.EqualTo(DistanceMetric.Cosine));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task IngestAsync_ZeroEmbeddingInCosineSet_RejectsNamingRecordButL2SetAcceptsIt()
    {
        // Arrange: Sequence(start: 0) begins with the all-zero embedding [0, 0, 0, 0].
        await _fixture.IngestAsync(WithMetric(DistanceMetric.Cosine), Records.Sequence(1, start: 1));
        var l2 = WithMetric(DistanceMetric.L2);
        l2.Model = "other";

        // Act
        var cosineOutcome = await _fixture.IngestAsync(Records.Set(), [.. Records.Sequence(2, start: 5), .. Records.Sequence(1, start: 0)]);
        var l2Outcome = await _fixture.IngestAsync(l2, Records.Sequence(1, start: 0));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(cosineOutcome.Error?.Kind, Is.EqualTo(IngestRejectionKind.ZeroVector));
            Assert.That(cosineOutcome.Error?.RecordIndex, Is.EqualTo(2));
            Assert.That(cosineOutcome.Error?.Message, Does.StartWith("records[2].embedding: is all zeros, which has no direction under the cosine metric of embedding set 'model/1/fc'"));
            Assert.That(_fixture.Store.CountRecords(_fixture.RequireSet(Records.Set()), RecordSelection.All), Is.EqualTo(1), "nothing of the rejected batch");
            Assert.That(l2Outcome, Is.EqualTo(new IngestOutcome(1, 0, null)));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task IngestAsync_SeveralZeroEmbeddingsInCosineSet_ListsEveryOne()
    {
        // Arrange: records 0 and 2 are all zeros (Sequence(start: 0) begins with [0, 0, 0, 0]); a client drops both.
        await _fixture.IngestAsync(WithMetric(DistanceMetric.Cosine), Records.Sequence(1, start: 1));

        // Act
        var outcome = await _fixture.IngestAsync(Records.Set(), [.. Records.Sequence(1, start: 0), .. Records.Sequence(1, start: 7), .. Records.Sequence(1, start: 0)]);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(outcome.Error?.RecordIndex, Is.Zero);
            Assert.That(outcome.Error?.RecordRejections.Select(r => (r.Kind, r.RecordIndex)), Is.EqualTo(new[] { (IngestRejectionKind.ZeroVector, 0), (IngestRejectionKind.ZeroVector, 2) }));
            Assert.That(outcome.Error?.RecordRejections[1].Message, Does.StartWith("records[2].embedding: is all zeros"));
        });
    }
}
