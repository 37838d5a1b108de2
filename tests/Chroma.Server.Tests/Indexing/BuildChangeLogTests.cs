using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Indexing.Internal;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// The log of changes made while a graph is built: it keeps no vectors, takes them from the exact index in shares
/// bounded by floats, and replays the rest in order.
/// </summary>
[TestFixture]
public sealed class BuildChangeLogTests
{
    [Test]
    public void Take_MoreAdditionsThanTheShareHolds_TakesWhatFitsWithTheirVectorsAndKeepsTheRest()
    {
        // Arrange: five additions of 4 floats; a share of 8 floats holds two of them, and the removal between them.
        var exact = Exact(dimension: 4, count: 5);
        var log = new BuildChangeLog();
        log.Added(0, "production");
        log.Removed(100);
        log.Added(1, "training");
        log.Added(2, "production");
        log.Added(3, "production");
        log.Added(4, "production");

        // Act
        var first = log.Take(exact, maxFloats: 8);
        var second = log.Take(exact, maxFloats: 8);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(Sequences(first), Is.EqualTo(new long[] { 0, 100, 1 }));
            Assert.That(Enumerable.Range(0, first.Count).Select(first.IsRemoval), Is.EqualTo(new[] { false, true, false }));
            Assert.That(first.Vector(0).ToArray(), Is.EqualTo(Vector(0, 4)));
            Assert.That(first.Vector(2).ToArray(), Is.EqualTo(Vector(1, 4)));
            Assert.That(first.Dataset(2), Is.EqualTo("training"));
            Assert.That(Sequences(second), Is.EqualTo(new long[] { 2, 3 }));
            Assert.That(log.Count, Is.EqualTo(1), "one addition is left for the next share");
        });
    }

    [Test]
    public void Take_ShareSmallerThanOneVector_StillTakesOneAddition()
    {
        // Arrange
        var exact = Exact(dimension: 4, count: 2);
        var log = new BuildChangeLog();
        log.Added(0, "production");
        log.Added(1, "production");

        // Act
        var batch = log.Take(exact, maxFloats: 1);

        // Assert
        Assert.That(Sequences(batch), Is.EqualTo(new long[] { 0 }), "a share always makes progress");
    }

    [Test]
    public void Take_AdditionRemovedFromTheExactIndexSince_BecomesARemovalWithNoVector()
    {
        // Arrange: record 1 arrived during the build and was deleted before the share was taken.
        var exact = Exact(dimension: 4, count: 3);
        var log = new BuildChangeLog();
        log.Added(1, "production");
        log.Added(2, "production");
        exact.Remove(1);
        log.Removed(1);

        // Act
        var batch = log.Take(exact, maxFloats: 1_000);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(Sequences(batch), Is.EqualTo(new long[] { 1, 2, 1 }));
            Assert.That(batch.IsRemoval(0), Is.True, "its vector is gone, so nothing is added");
            Assert.That(batch.Vector(1).ToArray(), Is.EqualTo(Vector(2, 4)), "the next row's vector, though the removal moved rows");
            Assert.Throws<InvalidOperationException>(() => batch.Vector(0).ToArray());
        });
    }

    [Test]
    public void ReplayOnto_AddedAndRemovedRecords_GraphHoldsWhatTheExactIndexHolds()
    {
        // Arrange: the graph holds records 0-1 (the snapshot); 2-4 arrive during the build, 0 and 3 are deleted.
        var exact = Exact(dimension: 4, count: 5);
        using var graph = new HnswVectorIndex(4);
        graph.Add(0, Vector(0, 4), "production");
        graph.Add(1, Vector(1, 4), "production");
        var log = new BuildChangeLog();
        log.Added(2, "production");
        log.Added(3, "production");
        log.Added(4, "training");
        exact.Remove(0);
        log.Removed(0);
        exact.Remove(3);
        log.Removed(3);

        // Act
        log.ReplayOnto(graph, exact);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(graph.Graph.LiveKeys().Order(), Is.EqualTo(new long[] { 1, 2, 4 }));
            Assert.That(graph.Search(Vector(4, 4), 1, "training").Single(), Is.EqualTo(new VectorNeighbor(4, 0f)), "added with its own vector and dataset");
            Assert.That(log.Count, Is.Zero);
        });
    }

    [Test]
    public void TakeAdoptable_AdditionsFollowAWholeSlab_TakesItSharedAndLeavesThePartlyFilledOne()
    {
        // Arrange: 14,000 rows, so the slab of rows 8,192-12,287 is whole and the next one is not; the log adds rows
        // 8,192 on in order.
        var exact = Exact(dimension: 2, count: 14_000);
        var log = new BuildChangeLog();
        for (var sequence = 8_192; sequence < 14_000; sequence++)
        {
            log.Added(sequence, "production");
        }

        (int Row, int Slabs)? offered = null;

        // Act
        var rows = log.TakeAdoptable(exact, 8_192, maxSlabs: 4, (row, slabs) =>
        {
            offered = (row, slabs.Count);
            return true;
        });

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(offered, Is.EqualTo((8_192, 1)), "one whole slab; rows 12,288-13,999 do not fill the next");
            Assert.That(rows!.FirstRow, Is.EqualTo(8_192));
            Assert.That(rows.Sequences, Is.EqualTo(Enumerable.Range(8_192, 4_096).Select(i => (long)i)));
            Assert.That(rows.Slabs.Single(), Has.Length.EqualTo(4_096 * 2));
            Assert.That(log.Count, Is.EqualTo(14_000 - 12_288));
        });
    }

    [TestCase(4_096, true, TestName = "TakeAdoptable_RowsBelowTheSlabs_TakesNothing")]
    [TestCase(8_192, false, TestName = "TakeAdoptable_GraphRefuses_TakesNothing")]
    public void TakeAdoptable_Refused(int firstRow, bool graphAdopts)
    {
        // Arrange
        var exact = Exact(dimension: 2, count: 12_288);
        var log = new BuildChangeLog();
        for (var sequence = firstRow; sequence < 12_288; sequence++)
        {
            log.Added(sequence, "production");
        }

        // Act
        var rows = log.TakeAdoptable(exact, firstRow, maxSlabs: 2, (_, _) => graphAdopts);

        // Assert
        Assert.That(rows, Is.Null);
        Assert.That(log.Count, Is.EqualTo(12_288 - firstRow), "nothing was taken");
    }

    [Test]
    public void TakeAdoptable_AnAdditionOutOfRowOrder_TakesNothing()
    {
        // Arrange: the log's 100th addition is not the record of row 8,291.
        var exact = Exact(dimension: 2, count: 12_288);
        var log = new BuildChangeLog();
        for (var sequence = 8_192; sequence < 12_288; sequence++)
        {
            log.Added(sequence == 8_291 ? 1 : sequence, "production");
        }

        // Act
        var rows = log.TakeAdoptable(exact, 8_192, maxSlabs: 1, (_, _) => true);

        // Assert
        Assert.That(rows, Is.Null);
    }

    private static BruteForceVectorIndex Exact(int dimension, int count)
    {
        var exact = new BruteForceVectorIndex(dimension);
        for (var sequence = 0; sequence < count; sequence++)
        {
            exact.Add(sequence, Vector(sequence, dimension), "production");
        }

        return exact;
    }

    private static float[] Vector(long sequence, int dimension) => [.. Enumerable.Range(0, dimension).Select(i => (float)((sequence * 10) + i))];

    private static long[] Sequences(VectorBatch batch) => [.. Enumerable.Range(0, batch.Count).Select(batch.Sequence)];
}
