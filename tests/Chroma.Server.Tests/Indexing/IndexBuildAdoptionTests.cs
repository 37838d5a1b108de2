using Chroma.Protocol.V1;
using Chroma.Server.Indexing;
using Chroma.Server.Storage;
using Chroma.Server.Tests.Indexing.Hnsw;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// A set read from a real store at start with no index file: its graph keeps the exact index's slab (rows 8,192-12,287 of
/// 13,000) instead of copying it, answers like a scan of the store, and a checkpoint of such a build resumes.
/// </summary>
[TestFixture]
public sealed class IndexBuildAdoptionTests
{
    private const int Dimension = 8;
    private const int Count = 13_000;
    private static readonly EmbeddingSetDescriptor Set = Records.Set(Dimension);

    private IndexRegistryFixture _fixture = null!;
    private float[][] _vectors = null!;

    [SetUp]
    public async Task SetUp()
    {
        _fixture = new IndexRegistryFixture(threshold: 300);
        _vectors = TestVectors.Clustered(Count, Dimension, clusters: 8, seed: 71);
        await _fixture.IngestUnindexedAsync(Set, [.. _vectors.Select((v, i) => Records.Make(v, dataset: i % 3 == 0 ? "production" : "training"))]);
        _fixture.Restart();
        _fixture.Indexes.BuildStepSize = 1_000;
    }

    [TearDown]
    public void TearDown() => _fixture.Dispose();

    [Test, CancelAfter(120_000)]
    public async Task Load_NoIndexFile_GraphKeepsTheSlabAndAnswersLikeAScanOfTheStore(CancellationToken cancellationToken)
    {
        // Arrange
        var set = _fixture.Store.RequireSet(Set);

        // Act
        var index = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        await index.BuildCompletion.WaitAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(index.AdoptedVectors, Is.EqualTo(4_096), "rows 8,192-12,287: one whole slab");
            Assert.That(index.Hnsw!.Count, Is.EqualTo(Count));
            Assert.That(ExactOnGraph(set), Is.EqualTo(ScanOfStore(set)), "every vector, adopted or copied, as stored");
            Assert.That(_fixture.Log.Entries.Any(e => e.Message.Contains("13000 vectors, 4096 of them kept", StringComparison.Ordinal)), Is.True, "event 311");
        });
    }

    [Test, CancelAfter(120_000)]
    public async Task Restart_DuringAnAdoptingBuild_ResumesFromItsCheckpoint(CancellationToken cancellationToken)
    {
        // Arrange: the build saves a checkpoint after 10,000 rows (part of the slab's among them) and is held at 11,000.
        var set = _fixture.Store.RequireSet(Set);
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _fixture.Indexes.BuildStepObserver = async (step, token) =>
        {
            step.Checkpoint = step.Indexed == 10_000;
            if (step.Indexed == 11_000)
            {
                held.TrySetResult();
                await Task.Delay(Timeout.Infinite, token);
            }
        };
        var interrupted = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        await held.Task.WaitAsync(cancellationToken);
        var adoptedBeforeRestart = interrupted.AdoptedVectors;

        // Act
        _fixture.Restart();
        _fixture.Indexes.BuildStepSize = 1_000;
        var index = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        await index.BuildCompletion.WaitAsync(cancellationToken);

        // Assert: the checkpoint wrote the slab's vectors into the file; the resumed graph holds its own copy.
        Assert.Multiple(() =>
        {
            Assert.That(adoptedBeforeRestart, Is.EqualTo(4_096));
            Assert.That(index.ResumedVectors, Is.EqualTo(10_000));
            Assert.That(index.AdoptedVectors, Is.Zero, "a resumed graph copies");
            Assert.That(index.Hnsw!.Count, Is.EqualTo(Count));
            Assert.That(ExactOnGraph(set), Is.EqualTo(ScanOfStore(set)));
        });
    }

    /// <summary>Sequences of the 5 nearest (all datasets, then production) for fixed queries, by an exact scan of the graph.</summary>
    private List<string> ExactOnGraph(StoredEmbeddingSet set)
    {
        var index = _fixture.Indexes.LoadAsync(set).Result;
        return [.. Queries().Select(q => string.Join(',', index.Search(q.Vector, 5, q.Dataset, new NearestSearchOptions(Exact: true)).Select(n => n.Sequence)))];
    }

    /// <summary>The same, by a scan of what the store holds.</summary>
    private List<string> ScanOfStore(StoredEmbeddingSet set)
    {
        var stored = new List<(long Sequence, float[] Vector, string Dataset)>();
        _fixture.Store.Store.ReadVectors(set, (s, v, d) => stored.Add((s, v.ToArray(), d)));
        return [.. Queries().Select(q => string.Join(',', stored.Where(r => q.Dataset is null || r.Dataset == q.Dataset)
            .OrderBy(r => r.Vector.Zip(q.Vector, (a, b) => (double)(a - b) * (a - b)).Sum())
            .Take(5).Select(r => r.Sequence)))];
    }

    // Stored vectors of adopted rows (8,192-12,287) and copied ones, and random points.
    private IEnumerable<(float[] Vector, string? Dataset)> Queries() =>
        new[] { 10, 4_096, 8_191, 8_192, 10_000, 12_287, 12_288, 12_999 }.Select(i => _vectors[i])
            .Concat(TestVectors.Uniform(6, Dimension, seed: 72))
            .SelectMany(v => new[] { (v, (string?)null), (v, "production") });
}
