using System.Numerics.Tensors;
using NUnit.Framework;
using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing.Hnsw;

[TestFixture]
public sealed class HnswIndexAdoptionTests
{
    // 10,000 rows = two whole 4,096-node chunks and 1,808 more.
    private const int Dimension = 8;
    private const int Rows = 10_000;

    [TestCase(nameof(HnswMetric.L2))]
    [TestCase(nameof(HnswMetric.Cosine))]
    public void AdoptVectors_LinkedInRowOrder_SavesTheSameFileAsAGraphThatCopiedEveryVector(string metricName)
    {
        // Arrange: one graph copies every vector (Add); the other uses a slab as its second chunk's vectors (its first
        // chunk has none, as in the exact index, and copies in order), the rest added after them. Levels depend only on
        // node ids and links on the order, so the files must be equal.
        var metric = Enum.Parse<HnswMetric>(metricName);
        var vectors = TestVectors.Clustered(Rows, Dimension, clusters: 5, seed: 41);
        using var copied = NewIndex(metric);
        for (var i = 0; i < Rows; i++)
        {
            copied.Add(i, vectors[i], i % 3);
        }

        using var adopting = NewIndex(metric);

        // Act
        var stored = Stored(vectors, metric);
        var slabs = Slabs(stored);
        var (inOrder, adopted) = adopting.AdoptVectors(Rows, c => c == 0 ? null : slabs[c]);
        for (var row = 0; row < inOrder; row++)
        {
            adopting.LinkAdopted(adopting.ReserveAdopted(row, row, row % 3), stored[row]);
        }

        for (var i = inOrder; i < Rows; i++)
        {
            adopting.Add(i, vectors[i], i % 3);
        }

        // Assert
        Assert.That((inOrder, adopted), Is.EqualTo((8_192, 4_096)), "whole 4,096-node chunks only, through the last with a slab");
        Assert.That(Saved(adopting), Is.EqualTo(Saved(copied)), "the same graph, written from the blocks");
        var query = TestVectors.Uniform(1, Dimension, seed: 42)[0];
        Assert.That(adopting.Search(query, 10, tag: 1, ef: 50), Is.EqualTo(copied.Search(query, 10, tag: 1, ef: 50)));
    }

    [Test]
    public void AdoptVectors_Linked_ReadsTheSlabInPlace()
    {
        // Arrange: a slab is never written once adopted (the exact index copies a chunk before it changes a row);
        // writing one here anyway shows the graph reads it rather than a copy.
        var vectors = TestVectors.Uniform(4_096, Dimension, seed: 43);
        var slab = Slabs(vectors)[0];
        using var index = NewIndex(HnswMetric.L2);
        var (inOrder, adopted) = index.AdoptVectors(vectors.Length, _ => slab);
        for (var row = 0; row < inOrder; row++)
        {
            index.LinkAdopted(index.ReserveAdopted(row, row, 0), vectors[row]);
        }

        float[] far = [100f, 100f, 100f, 100f, 100f, 100f, 100f, 100f];

        // Act
        far.CopyTo(slab.AsSpan(2_053 * Dimension));
        var found = index.SearchExactly(far, 1);

        // Assert
        Assert.That((inOrder, adopted), Is.EqualTo((4_096, 4_096)));
        Assert.That(found.Single().Key, Is.EqualTo(2_053));
        Assert.That(found.Single().Distance, Is.Zero);
    }

    [Test]
    public void AdoptVectors_WhatCannotBeAdopted_AdoptsNothing()
    {
        // Arrange
        var vectors = TestVectors.Uniform(5_000, Dimension, seed: 44);
        var slab = Slabs(vectors)[0];
        using var notEmpty = NewIndex(HnswMetric.L2);
        notEmpty.Add(99_999, vectors[0]);
        using var noSlab = NewIndex(HnswMetric.L2);
        using var tooFew = NewIndex(HnswMetric.L2);
        using var wrongSize = NewIndex(HnswMetric.L2);

        // Act
        var intoNonEmpty = notEmpty.AdoptVectors(vectors.Length, _ => slab);
        var withoutSlabs = noSlab.AdoptVectors(vectors.Length, _ => null);
        var belowAChunk = tooFew.AdoptVectors(4_095, _ => slab);

        // Assert: each still takes vectors by Add; a slab of another size is refused, naming its size.
        Assert.That((intoNonEmpty, withoutSlabs, belowAChunk), Is.EqualTo(((0, 0), (0, 0), (0, 0))));
        noSlab.Add(1, vectors[1]);
        Assert.That(noSlab.Search(vectors[1], 1).Single().Key, Is.EqualTo(1));
        Assert.That(() => wrongSize.AdoptVectors(vectors.Length, _ => new float[1_000]), Throws.ArgumentException.With.Message.Contains("not 1000 floats"));
    }

    [Test]
    public void ReserveAdopted_OutOfOrderOrBeyondTheAdoptedRows_ThrowsNamingTheRow()
    {
        // Arrange
        var vectors = TestVectors.Uniform(4_100, Dimension, seed: 45);
        using var index = NewIndex(HnswMetric.L2);
        var (inOrder, _) = index.AdoptVectors(vectors.Length, c => Slabs(vectors)[c]);

        // Act / Assert
        Assert.That(() => index.ReserveAdopted(1, 1, 0), Throws.InvalidOperationException.With.Message.Contains("Row 1"));
        for (var row = 0; row < inOrder; row++)
        {
            index.ReserveAdopted(row, row, 0);
        }

        Assert.That(() => index.ReserveAdopted(4_096, 4_096, 0), Throws.InvalidOperationException.With.Message.Contains("4096 rows go in in order"));
        Assert.That(() => index.LinkAdopted(4_096, vectors[4_096]), Throws.InvalidOperationException);
    }

    [Test]
    public void Load_AfterSavingAnAdoptingGraph_AnswersLikeIt()
    {
        // Arrange
        var vectors = TestVectors.Clustered(Rows, Dimension, clusters: 4, seed: 46);
        using var index = NewIndex(HnswMetric.L2);
        var slabs = Slabs(vectors);
        var (inOrder, _) = index.AdoptVectors(Rows, c => slabs[c]);
        for (var row = 0; row < inOrder; row++)
        {
            index.LinkAdopted(index.ReserveAdopted(row, row, 0), vectors[row]);
        }

        for (var i = inOrder; i < Rows; i++)
        {
            index.Add(i, vectors[i]);
        }

        // Act
        using var stream = new MemoryStream(Saved(index));
        using var loaded = HnswIndex.Load(stream);

        // Assert
        foreach (var query in TestVectors.Uniform(20, Dimension, seed: 47))
        {
            Assert.That(loaded.Search(query, 10, ef: 40), Is.EqualTo(index.Search(query, 10, ef: 40)));
        }
    }

    private static HnswIndex NewIndex(HnswMetric metric) =>
        new(new HnswOptions { Dimension = Dimension, Metric = metric, M = 8, EfConstruction = 40 });

    /// <summary>The vectors as both indexes store them: divided by their norm under cosine (as Add does), as given under L2.</summary>
    private static float[][] Stored(float[][] vectors, HnswMetric metric) => metric == HnswMetric.Cosine
        ? [.. vectors.Select(v =>
        {
            var unit = v.ToArray();
            TensorPrimitives.Divide(unit, TensorPrimitives.Norm(unit), unit);
            return unit;
        })]
        : vectors;

    /// <summary>Pinned slabs of 4,096 rows, as the exact index keeps its rows from 4,096 on (the last one partly filled).</summary>
    private static float[][] Slabs(float[][] vectors)
    {
        var rows = VectorBlocks.SlabRows;
        return [.. vectors.Chunk(rows).Select(block =>
        {
            var floats = GC.AllocateArray<float>(rows * Dimension, pinned: true);
            for (var i = 0; i < block.Length; i++)
            {
                block[i].CopyTo(floats, i * Dimension);
            }

            return floats;
        })];
    }

    private static byte[] Saved(HnswIndex index)
    {
        using var stream = new MemoryStream();
        index.Save(stream);
        return stream.ToArray();
    }
}
