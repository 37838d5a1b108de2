using NUnit.Framework;
using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing.Hnsw;

[TestFixture]
public sealed class HnswIndexPersistenceTests
{
    private string _directory = null!;

    [SetUp]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("chroma-hnsw-").FullName;

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    [TestCase(nameof(HnswMetric.L2))]
    [TestCase(nameof(HnswMetric.Cosine))]
    [TestCase(nameof(HnswMetric.InnerProduct))]
    public void Load_AfterSave_ReturnsIdenticalResults(string metricName)
    {
        // Arrange (the metric comes by name: HnswMetric is internal, and a public test method cannot take it)
        var metric = Enum.Parse<HnswMetric>(metricName);
        float[][] vectors = TestVectors.Clustered(6000, 12, clusters: 6, seed: 31);
        using HnswIndex original = TestVectors.Build(vectors, metric, i => i % 3);
        for (int i = 0; i < vectors.Length; i += 10)
        {
            original.Remove(i);
        }

        float[][] queries = TestVectors.Uniform(50, 12, seed: 32);
        string path = Path.Combine(_directory, "index.hnsw");

        // Act
        original.Save(path);
        using HnswIndex loaded = HnswIndex.Load(path);

        // Assert
        Assert.That((loaded.Count, loaded.DeletedCount, loaded.Options), Is.EqualTo((original.Count, original.DeletedCount, original.Options)));
        foreach (float[] q in queries)
        {
            Assert.That(loaded.Search(q, 10, ef: 40), Is.EqualTo(original.Search(q, 10, ef: 40)));
            Assert.That(loaded.Search(q, 10, tag: 2, ef: 40), Is.EqualTo(original.Search(q, 10, tag: 2, ef: 40)));
        }
    }

    [Test]
    public void Add_AfterLoad_KeepsWorkingAndRejectsLoadedKeys()
    {
        // Arrange
        float[][] vectors = TestVectors.Uniform(300, 8, seed: 33);
        using HnswIndex original = TestVectors.Build(vectors, HnswMetric.L2);
        using var stream = new MemoryStream();
        original.Save(stream);
        stream.Position = 0;
        using HnswIndex loaded = HnswIndex.Load(stream);

        // Act
        loaded.Add(1000, [5f, 5f, 5f, 5f, 5f, 5f, 5f, 5f]);

        // Assert
        Assert.That(loaded.Search([5f, 5f, 5f, 5f, 5f, 5f, 5f, 5f], 1)[0].Key, Is.EqualTo(1000));
        Assert.That(() => loaded.Add(5, vectors[5]), Throws.ArgumentException.With.Message.Contains("Key 5"));
    }

    [Test]
    public void Load_EmptyIndex_RoundTrips()
    {
        // Arrange
        using var original = new HnswIndex(new HnswOptions { Dimension = 3 });
        using var stream = new MemoryStream();
        original.Save(stream);
        stream.Position = 0;

        // Act
        using HnswIndex loaded = HnswIndex.Load(stream);

        // Assert
        Assert.That((loaded.Count, loaded.Search([1f, 1f, 1f], 3).Length), Is.EqualTo((0, 0)));
    }

    [Test]
    public void Load_NotAnIndexFile_ThrowsInvalidData()
    {
        // Arrange
        using var stream = new MemoryStream(new byte[100]);

        // Act / Assert
        Assert.That(() => HnswIndex.Load(stream), Throws.TypeOf<InvalidDataException>().With.Message.Contains("magic"));
    }

    [Test]
    public void Load_TruncatedFile_ThrowsInvalidData()
    {
        // Arrange
        using HnswIndex original = TestVectors.Build(TestVectors.Uniform(100, 4, seed: 34), HnswMetric.L2);
        using var full = new MemoryStream();
        original.Save(full);
        using var truncated = new MemoryStream(full.ToArray()[..(int)(full.Length / 2)]);

        // Act / Assert
        Assert.That(() => HnswIndex.Load(truncated), Throws.TypeOf<InvalidDataException>().With.Message.Contains("truncated"));
    }
}
