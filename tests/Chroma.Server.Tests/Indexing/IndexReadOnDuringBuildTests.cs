using Chroma.Protocol.V1;
using Chroma.Server.Indexing;
using Chroma.Server.Storage;
using Chroma.Server.Tests.Indexing.Hnsw;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// While a set's first graph is built, the worker reads every record committed meanwhile into the exact index, which
/// answers until the take-over: a query right after a bulk load covers every acknowledged record (exact, not behind)
/// however far the build is from done, and the graph that takes over still holds each record once. Real SQLite store,
/// real graph; the build is held at its first step while the backlog is read.
/// </summary>
[TestFixture]
public sealed class IndexReadOnDuringBuildTests
{
    private const int Dimension = 8;
    private const int First = 1_000;
    private const int Backlog = 12_000;
    private static readonly EmbeddingSetDescriptor Set = Records.Set(Dimension);

    private IndexRegistryFixture _fixture = null!;

    [SetUp]
    public void SetUp()
    {
        _fixture = new IndexRegistryFixture(threshold: 300);
        _fixture.Indexes.BuildStepSize = 500;
        _fixture.Indexes.CatchUpPageSize = 1_000;
    }

    [TearDown]
    public void TearDown() => _fixture.Dispose();

    [Test, CancelAfter(120_000)]
    public async Task ApplyQueuedAsync_BacklogWhileTheBuildIsHeld_EveryRecordIsFoundAndTheGraphTakesThemAllOver(CancellationToken cancellationToken)
    {
        // Arrange: a build of the first 1,000 records held after its first step of 500; then a backlog of 12,000
        // (24 build steps) committed while it is held.
        var vectors = TestVectors.Clustered(First + Backlog, Dimension, clusters: 8, seed: 91);
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _fixture.Indexes.BuildStepObserver = async (step, token) =>
        {
            if (held.TrySetResult())
            {
                await release.Task.WaitAsync(token);
            }
        };
        await _fixture.IngestAsync(Set, [.. vectors.Take(First).Select(v => Records.Make(v))]);
        var set = _fixture.Store.RequireSet(Set);
        var index = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);
        await held.Task.WaitAsync(cancellationToken);
        await _fixture.IngestAsync(Set, [.. vectors.Skip(First).Select(v => Records.Make(v))]);

        // Act: the worker catches up while the build stays held; queries for records of the whole backlog.
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);
        var probes = new[] { First, First + 1, First + (Backlog / 2), First + Backlog - 1 };
        var during = new List<NearestAnswer>();
        foreach (var row in probes)
        {
            during.Add(await _fixture.Indexes.FindAsync(set, vectors[row], 1, null, default, cancellationToken).WaitAsync(cancellationToken));
        }

        var kindDuring = index.Hnsw is null ? "exact" : "graph";
        var awaiting = index.ChangesAwaitingBuild;
        release.SetResult();
        await index.BuildCompletion.WaitAsync(cancellationToken);
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);

        // Assert
        var missing = Enumerable.Range(0, First + Backlog)
            .Where(i => index.Search(vectors[i], 1, null, new NearestSearchOptions(Exact: true)) is not [{ Distance: 0 }]).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(kindDuring, Is.EqualTo("exact"), "the build was still held");
            Assert.That(_fixture.Indexes.IndexedThroughSequence(set), Is.EqualTo(_fixture.Store.Store.ReadLastSequence(set)), "read through the store's end");
            Assert.That(awaiting, Is.GreaterThanOrEqualTo(Backlog), "the backlog waits in the build's log, not in the store");
            Assert.That(during.Select(a => a.IndexBehind), Is.All.False);
            Assert.That(during.Select(a => a.Neighbors.Single().Distance), Is.All.Zero, "each backlog record is found by its own vector");
            Assert.That(_fixture.Indexes.FarBehindAnswers, Is.Zero);
            Assert.That(index.Hnsw, Is.Not.Null, "the graph took over");
            Assert.That(index.Hnsw!.Count, Is.EqualTo(First + Backlog), "each record once");
            Assert.That(missing, Is.Empty, "every record is in the graph");
        });
    }
}
