using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text.Json;
using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Indexing.Internal;
using Chroma.Server.Tests.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing.Internal;

/// <summary>
/// The set index file: written with an XXH128 checksum ("CHSETIX2"), and files of the SHA-256 format ("CHSETIX1") that
/// servers before it wrote still load. Either checksum refuses a file with one byte changed.
/// </summary>
[TestFixture]
public sealed class SetIndexFileTests
{
    private static readonly SetIndexHeader Header = new("m/1/emb", 8, 299, new Dictionary<string, int>(StringComparer.Ordinal) { ["production"] = 1 });

    private string _directory = null!;

    [SetUp]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("chroma-setindex-").FullName;

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    [Test]
    public void Save_WritesTheNewMagicAndAnXxh128OfEverythingBeforeIt()
    {
        using var graph = TestVectors.Build(TestVectors.Uniform(300, 8, seed: 41), HnswMetric.L2);
        var path = Path.Combine(_directory, "1.hnsw");

        SetIndexFile.Save(path, Header, graph);

        var bytes = File.ReadAllBytes(path);
        Assert.Multiple(() =>
        {
            Assert.That(bytes.AsSpan(0, 8).ToArray(), Is.EqualTo("CHSETIX2"u8.ToArray()));
            Assert.That(bytes.AsSpan(bytes.Length - 16).ToArray(), Is.EqualTo(XxHash128.Hash(bytes.AsSpan(0, bytes.Length - 16))));
        });
    }

    [Test]
    public void Load_AfterSave_SameHeaderAndSameSearches()
    {
        var vectors = TestVectors.Uniform(300, 8, seed: 42);
        using var graph = TestVectors.Build(vectors, HnswMetric.L2);
        var path = Path.Combine(_directory, "1.hnsw");
        SetIndexFile.Save(path, Header, graph);

        var (header, loaded) = SetIndexFile.Load(path);
        using (loaded)
        {
            AssertSame(header, loaded, graph, vectors);
        }
    }

    [Test]
    public void Load_FileOfTheSha256Format_LoadsAsBefore()
    {
        var vectors = TestVectors.Uniform(300, 8, seed: 43);
        using var graph = TestVectors.Build(vectors, HnswMetric.L2);
        var path = Path.Combine(_directory, "1.hnsw");
        File.WriteAllBytes(path, Sha256Format(graph));

        var (header, loaded) = SetIndexFile.Load(path);
        using (loaded)
        {
            AssertSame(header, loaded, graph, vectors);
        }
    }

    [TestCase(false, TestName = "Load_OneByteOfTheGraphChanged_FailsItsChecksum(XXH128)")]
    [TestCase(true, TestName = "Load_OneByteOfTheGraphChanged_FailsItsChecksum(SHA-256)")]
    public void Load_OneByteOfTheGraphChanged_FailsItsChecksum(bool sha256Format)
    {
        using var graph = TestVectors.Build(TestVectors.Uniform(300, 8, seed: 44), HnswMetric.L2);
        var path = Path.Combine(_directory, "1.hnsw");
        if (sha256Format)
        {
            File.WriteAllBytes(path, Sha256Format(graph));
        }
        else
        {
            SetIndexFile.Save(path, Header, graph);
        }

        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(path, bytes);

        Assert.That(() => SetIndexFile.Load(path), Throws.TypeOf<InvalidDataException>().With.Message.Contains("fails its checksum"));
    }

    [TestCase("CHSETIX1")]
    [TestCase("CHSETIX2")]
    public void Load_FileShorterThanItsChecksum_TooShort(string magic)
    {
        var path = Path.Combine(_directory, "1.hnsw");
        File.WriteAllBytes(path, [.. System.Text.Encoding.ASCII.GetBytes(magic), 2, 0, 0, 0, (byte)'{', (byte)'}']);

        Assert.That(() => SetIndexFile.Load(path), Throws.TypeOf<InvalidDataException>().With.Message.Contains("too short"));
    }

    [Test]
    public void Load_OtherMagic_NotASetIndex()
    {
        var path = Path.Combine(_directory, "1.hnsw");
        File.WriteAllBytes(path, new byte[64]);

        Assert.That(() => SetIndexFile.Load(path), Throws.TypeOf<InvalidDataException>().With.Message.Contains("bad magic"));
    }

    // The format servers wrote before the XXH128 checksum: "CHSETIX1", the header, the graph, a SHA-256 of them.
    private static byte[] Sha256Format(HnswIndex graph)
    {
        using var payload = new MemoryStream();
        var json = JsonSerializer.SerializeToUtf8Bytes(Header);
        payload.Write("CHSETIX1"u8);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, json.Length);
        payload.Write(length);
        payload.Write(json);
        graph.Save(payload);
        return [.. payload.ToArray(), .. SHA256.HashData(payload.ToArray())];
    }

    private static void AssertSame(SetIndexHeader header, HnswIndex loaded, HnswIndex original, float[][] vectors)
    {
        Assert.Multiple(() =>
        {
            Assert.That((header.SetId, header.Dimension, header.IndexedThroughSequence), Is.EqualTo((Header.SetId, Header.Dimension, Header.IndexedThroughSequence)));
            Assert.That(header.Datasets, Is.EqualTo(Header.Datasets));
            Assert.That(loaded.Count, Is.EqualTo(original.Count));
            foreach (var query in vectors.Take(20))
            {
                Assert.That(loaded.Search(query, 10, ef: 40), Is.EqualTo(original.Search(query, 10, ef: 40)));
            }
        });
    }
}
