using Chroma.Tests.Support;

namespace Chroma.Tests.Descriptors;

[TestFixture]
public sealed class EmbeddingSetDescriptorMetricTests
{
    [Test]
    public void Metric_NotSet_IsUnspecifiedSoTheServerDecides()
    {
        var descriptor = new EmbeddingSetDescriptor("m", "1", "fc", 4);

        Assert.Multiple(() =>
        {
            Assert.That(descriptor.Metric, Is.EqualTo(DistanceMetric.Unspecified));
            Assert.That(descriptor.ToString(), Is.EqualTo("m/1/fc (4)"));
        });
    }

    [Test]
    public void Equals_DescriptorsDifferOnlyInMetric_AreNotEqualButShareTheId()
    {
        var l2 = new EmbeddingSetDescriptor("m", "1", "fc", 4) { Metric = DistanceMetric.L2 };
        var cosine = new EmbeddingSetDescriptor("m", "1", "fc", 4) { Metric = DistanceMetric.Cosine };

        Assert.Multiple(() =>
        {
            Assert.That(l2, Is.Not.EqualTo(cosine));
            Assert.That(l2.Id, Is.EqualTo(cosine.Id), "the metric is not part of the set id");
            Assert.That(cosine.ToString(), Is.EqualTo("m/1/fc (4, Cosine)"));
        });
    }

    [Test]
    public void Validate_UndefinedMetric_ThrowsNamingMetric()
    {
        var descriptor = new EmbeddingSetDescriptor("m", "1", "fc", 4) { Metric = (DistanceMetric)7 };

        Assert.That(descriptor.Validate, Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("Metric"));
    }

    [Test, CancelAfter(10_000)]
    public async Task GetEmbeddingSet_SameIdOtherMetric_ThrowsNamingBoth(CancellationToken cancellationToken)
    {
        await using var recording = new RecordingClient();
        recording.Client.GetEmbeddingSet(new EmbeddingSetDescriptor("m", "1", "fc", 4) { Metric = DistanceMetric.Cosine });

        Assert.That(
            () => recording.Client.GetEmbeddingSet(new EmbeddingSetDescriptor("m", "1", "fc", 4) { Metric = DistanceMetric.L2 }),
            Throws.ArgumentException.With.Message.Contains("already has metric Cosine, not L2"));
        await Task.CompletedTask.WaitAsync(cancellationToken);
    }

    [TestCase(DistanceMetric.Unspecified, 0)]
    [TestCase(DistanceMetric.L2, 1)]
    [TestCase(DistanceMetric.Cosine, 2)]
    [CancelAfter(10_000)]
    public async Task LogTraining_SetWithMetric_EveryBatchCarriesIt(DistanceMetric metric, int expectedWireValue, CancellationToken cancellationToken)
    {
        // Arrange
        await using var recording = new RecordingClient(maxBatchSize: 2);
        var set = recording.Client.GetEmbeddingSet(new EmbeddingSetDescriptor("m", "1", "fc", 3) { Metric = metric });

        // Act
        for (var i = 0; i < 5; i++)
        {
            set.LogTraining([1, 2, i], "a");
        }

        await recording.SentRecordsAsync(cancellationToken);

        // Assert
        Assert.That(recording.Factory.Batches.Select(b => (int)b.Set.Metric), Is.Not.Empty.And.All.EqualTo(expectedWireValue));
    }
}
