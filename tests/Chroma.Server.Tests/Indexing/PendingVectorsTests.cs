using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Indexing.Internal;

namespace Chroma.Server.Tests.Indexing;

/// <summary>The staged tail of a graph: oldest-first linking, removals, and merging its answers with the graph's.</summary>
[TestFixture]
public sealed class PendingVectorsTests
{
    [Test]
    public void Merge_RecordInBothAnswers_KeptOnceInDistanceOrderAndCutAtK()
    {
        // Arrange: record 7 was linked while the query ran, so both answers hold it.
        VectorNeighbor[] graph = [new(1, 0.5f), new(7, 1f), new(3, 4f)];
        VectorNeighbor[] pending = [new(7, 1f), new(9, 2f)];

        // Act
        var merged = PendingVectors.Merge(graph, pending, 3);

        // Assert
        Assert.That(merged, Is.EqualTo(new VectorNeighbor[] { new(1, 0.5f), new(7, 1f), new(9, 2f) }));
    }

    [Test]
    public void Oldest_AfterRemovalsAndLinks_SkipsRemovedAndReportsTheOldestStillPending()
    {
        // Arrange
        using var pending = new PendingVectors(2, HnswMetric.L2);
        for (var sequence = 10L; sequence < 15; sequence++)
        {
            pending.Add(sequence, [sequence, 0], "production");
        }

        // Act
        var removed = pending.Remove(11);
        var first = pending.Oldest(2);
        pending.Linked(first);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(removed, Is.True);
            Assert.That(Enumerable.Range(0, first.Count).Select(first.Sequence), Is.EqualTo(new long[] { 10, 12 }), "the removed vector is never handed out for linking");
            Assert.That(first.Vector(1).ToArray(), Is.EqualTo(new float[] { 12, 0 }), "each vector is handed out with its record");
            Assert.That(first.Dataset(1), Is.EqualTo("production"));
            Assert.That(pending.Count, Is.EqualTo(2));
            Assert.That(pending.OldestSequence, Is.EqualTo(13));
            Assert.That(pending.Search([12, 0], 1, null).Single().Sequence, Is.EqualTo(13), "a linked vector is no longer scanned here");
            Assert.That(pending.Remove(12), Is.False, "a linked vector is the graph's to remove");
        });
    }

    [Test]
    public void AddRange_PageOfVectors_StagedInOrderAsOneAtATimeWould()
    {
        // Arrange: a page of four 2-d vectors, as the store hands it (rows one after another).
        using var one = new PendingVectors(2, HnswMetric.L2);
        using var many = new PendingVectors(2, HnswMetric.L2);
        long[] sequences = [20, 21, 22, 23];
        float[] vectors = [0, 0, 1, 0, 2, 0, 3, 0];
        string[] datasets = ["production", "training", "production", "production"];
        for (var i = 0; i < sequences.Length; i++)
        {
            one.Add(sequences[i], vectors.AsSpan(i * 2, 2), datasets[i]);
        }

        // Act
        many.AddRange(sequences, vectors, datasets);
        var oldest = many.Oldest(3);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(many.Count, Is.EqualTo(4));
            Assert.That(many.OldestSequence, Is.EqualTo(20));
            Assert.That(Enumerable.Range(0, oldest.Count).Select(oldest.Sequence), Is.EqualTo(new long[] { 20, 21, 22 }), "linking takes the oldest first");
            Assert.That(oldest.Vector(2).ToArray(), Is.EqualTo(new float[] { 2, 0 }));
            Assert.That(oldest.Dataset(1), Is.EqualTo("training"));
            Assert.That(many.Search([2.9f, 0], 4, null), Is.EqualTo(one.Search([2.9f, 0], 4, null)));
            Assert.That(many.Search([0, 0], 4, "training").Select(f => f.Sequence), Is.EqualTo(new long[] { 21 }));
        });
    }

    [Test]
    public void AddRange_VectorsShorterThanThePage_ThrowsAndStagesNothing()
    {
        // Arrange
        using var pending = new PendingVectors(2, HnswMetric.L2);

        // Act + Assert
        Assert.Multiple(() =>
        {
            Assert.That(() => pending.AddRange([1, 2], [0, 0, 1], ["production", "production"]), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("vectors"));
            Assert.That(() => pending.AddRange([1, 2], [0, 0, 1, 1], ["production"]), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("datasets"));
            Assert.That(pending.Count, Is.Zero);
        });
    }

    [Test]
    public void Search_DatasetGiven_ScansOnlyThatDatasetsPendingVectors()
    {
        // Arrange
        using var pending = new PendingVectors(2, HnswMetric.L2);
        pending.Add(1, [0, 0], "training");
        pending.Add(2, [5, 0], "production");

        // Act
        var found = pending.Search([0, 0], 2, "production");

        // Assert
        Assert.That(found.Select(f => f.Sequence), Is.EqualTo(new long[] { 2 }));
    }
}
