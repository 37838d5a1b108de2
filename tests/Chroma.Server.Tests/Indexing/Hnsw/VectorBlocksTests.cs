using NUnit.Framework;
using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing.Hnsw;

[TestFixture]
public sealed class VectorBlocksTests
{
    [TestCase(1, 4_096, TestName = "RowsFor_OneFloat_AGraphChunkAtMost")]
    [TestCase(3, 4_096, TestName = "RowsFor_ThreeFloats_AGraphChunkAtMost")]
    [TestCase(5, 2_048, TestName = "RowsFor_FiveFloats_PowerOfTwoBelow64KiB")]
    [TestCase(128, 128, TestName = "RowsFor_128Floats_Exactly64KiB")]
    [TestCase(784, 16, TestName = "RowsFor_784Floats_PowerOfTwoBelow64KiB")]
    [TestCase(16_384, 1, TestName = "RowsFor_A64KiBRow_OneRow")]
    [TestCase(20_000, 1, TestName = "RowsFor_ALongerRow_OneRow")]
    public void RowsFor_Dimension_LargestPowerOfTwoThatFits(int dimension, int rows)
    {
        Assert.That(VectorBlocks.RowsFor(dimension), Is.EqualTo(rows));
    }

    [TestCase(8)]
    [TestCase(100)]
    [TestCase(784)]
    public void Snapshot_RowsFrom8192On_AreWholeSlabsUntilAChangeCopiesAChunk(int dimension)
    {
        // Arrange: 13,000 rows; rows 0-8,191 in blocks of their own, then slabs of 4,096 rows (the second partly filled).
        var index = new BruteForceVectorIndex(dimension);
        var vectors = TestVectors.Uniform(13_000, dimension, seed: 61);
        for (var i = 0; i < vectors.Length; i++)
        {
            index.Add(i, vectors[i], "training");
        }

        // Act
        var before = index.Snapshot();
        index.Add(9_000, vectors[0], "training"); // an overwrite in the first slab copies that row's chunk
        var after = index.Snapshot();

        // Assert
        var slab = before.WholeSlab(2);
        Assert.Multiple(() =>
        {
            Assert.That(before.WholeSlab(0), Is.Null, "rows 0-4,095 are not a slab");
            Assert.That(before.WholeSlab(1), Is.Null, "rows 4,096-8,191 are not a slab");
            Assert.That(slab, Is.Not.Null.And.Length.EqualTo(VectorBlocks.SlabRows * dimension));
            Assert.That(before.WholeSlab(3), Is.Null, "rows 12,288-12,999 do not fill a slab");
            Assert.That(slab!.AsSpan(808 * dimension, dimension).ToArray(), Is.EqualTo(vectors[9_000]), "row 9,000 in the slab as it was");
            Assert.That(before.Row(9_000).ToArray(), Is.EqualTo(vectors[9_000]));
            Assert.That(after.WholeSlab(2), Is.Null, "a chunk of it was copied, so the later snapshot's rows 8,192-12,287 are no slab");
            Assert.That(after.Row(9_000).ToArray(), Is.EqualTo(vectors[0]));
            Assert.That(after.Row(9_001).ToArray(), Is.EqualTo(vectors[9_001]));
        });
    }
}
