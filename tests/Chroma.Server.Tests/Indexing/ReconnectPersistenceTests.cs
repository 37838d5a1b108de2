using Chroma.Protocol.V1;
using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Indexing.Internal;
using Chroma.Server.Services.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Tests.Indexing.Hnsw;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// A graph read from a file is checked for nodes no search reaches; what that check links in is saved, and a graph saved
/// after its check is not checked again at the next start (before, every start walked the whole graph and linked the
/// same nodes again: 2-7 s of a core at 1.44 million).
/// </summary>
[TestFixture]
public sealed class ReconnectPersistenceTests
{
    private const int Dimension = 16;
    private static readonly EmbeddingSetDescriptor Set = Records.Set(Dimension);

    private IndexRegistryFixture _fixture = null!;
    private float[][] _vectors = null!;

    [SetUp]
    public void SetUp()
    {
        _fixture = new IndexRegistryFixture(threshold: 1_000);
        _vectors = TestVectors.Clustered(3_000, Dimension, clusters: 10, seed: 2);
    }

    [TearDown]
    public void TearDown() => _fixture.Dispose();

    [Test, CancelAfter(60_000)]
    public async Task GraphReadFromFile_NodesItsCheckLinkedIn_AreSavedAndTheNextStartDoesNotCheckAgain(CancellationToken cancellationToken)
    {
        // Arrange: the set's file holds a graph with unreachable nodes, written by a version that recorded no check.
        var set = await SavedAsync(cancellationToken);
        var unreachableBefore = ReplaceWithUnreachableNodes(set);
        var linkedBefore = Linked();
        _fixture.Restart();
        var loaded = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);

        // Act: the check of the graph read from the file runs (at once: no API to wait for here), then the stop saves.
        await CheckIfDueAsync(loaded, cancellationToken);
        var linkedAtLoad = Linked() - linkedBefore;
        var savesBefore = Saves();
        await _fixture.Indexes.SaveChangedAsync();
        var saved = Saves() - savesBefore;
        _fixture.Restart();
        var reloaded = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        var passesBefore = Passes();
        await CheckIfDueAsync(reloaded, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(unreachableBefore, Is.GreaterThan(0));
            Assert.That(linkedAtLoad, Is.EqualTo(1), "the file without the record was checked and its nodes linked in");
            Assert.That(saved, Is.EqualTo(1), "the linked graph is saved though no record changed");
            Assert.That(_fixture.Indexes.GetLoadReport(set)!.FromFile, Is.True);
            Assert.That(reloaded.Hnsw!.Graph.Connectivity().Unreachable, Is.Zero, "the file has the links");
            Assert.That(reloaded.Hnsw.NeverReconnected, Is.False, "its header records the check");
            Assert.That(Passes(), Is.EqualTo(passesBefore), "no second walk at the next start");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task GraphReadFromFile_SavedAfterItsCheck_CheckedAgainOnlyAfterTheUsualGrowth(CancellationToken cancellationToken)
    {
        // Arrange: a built graph (checked at the build's end) saved, then read by a restarted registry whose deferred work
        // may not run (a check due at the load would wait, and show as NeverReconnected).
        var set = await SavedAsync(cancellationToken);
        _fixture.Restart();
        _fixture.Indexes.MayRunDeferredWork = _ => false;
        var loaded = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        _fixture.Indexes.Poll();
        await _fixture.Indexes.ApplyQueuedAsync();

        // Act / Assert: not due at the load; due once ReconnectEvery vectors were added.
        Assert.That(loaded.Hnsw!.NeverReconnected, Is.False);
        Assert.That(loaded.StartReconnectIfDue(), Is.False);
        var more = TestVectors.Clustered(HnswVectorIndex.ReconnectEvery, Dimension, clusters: 10, seed: 3);
        for (var i = 0; i < more.Length; i++)
        {
            loaded.Hnsw.Add(100_000 + i, more[i], "training");
        }

        Assert.That(loaded.StartReconnectIfDue(), Is.True);
        await loaded.ReconnectCompletion.WaitAsync(cancellationToken);
    }

    // The records stored, the graph built from them and saved while the API is quiet.
    private async Task<StoredEmbeddingSet> SavedAsync(CancellationToken cancellationToken)
    {
        await _fixture.IngestAsync(Set, [.. _vectors.Select(v => Records.Make(v))]);
        var set = _fixture.Store.RequireSet(Set);
        await _fixture.Indexes.ApplyQueuedAsync();
        var index = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        await index.BuildCompletion.WaitAsync(cancellationToken);
        Assume.That(index.Hnsw, Is.Not.Null);
        Assume.That(await _fixture.Indexes.SaveChangedAsync(), Is.EqualTo(1));
        return set;
    }

    // Writes the same vectors, keys and header again as a graph of M = 4 built one by one (it leaves nodes unreachable),
    // with no record of a check, as a file of an older version; returns how many nodes no search reaches.
    private int ReplaceWithUnreachableNodes(StoredEmbeddingSet set)
    {
        var path = Path.Combine(_fixture.Indexes.IndexDirectory, set.Key + ".hnsw");
        var (header, graph) = SetIndexFile.Load(path);
        using (graph)
        {
            using var islands = new HnswIndex(new HnswOptions { Dimension = Dimension, M = 4, EfConstruction = 50, Metric = graph.Options.Metric });
            for (var i = 0; i < _vectors.Length; i++)
            {
                islands.Add(i + 1, _vectors[i], tag: header.Datasets["training"]);
            }

            Assume.That(graph.Count, Is.EqualTo(_vectors.Length));
            SetIndexFile.Save(path, header with { AddsSinceReconnect = null }, islands);
            return islands.Connectivity().Unreachable;
        }
    }

    private async Task CheckIfDueAsync(AdaptiveVectorIndex index, CancellationToken cancellationToken)
    {
        _fixture.Clock.Advance(GrpcActivity.MaximumDeferral);
        _fixture.Indexes.Poll();
        await _fixture.Indexes.ApplyQueuedAsync();
        await index.ReconnectCompletion.WaitAsync(cancellationToken);
    }

    private int Passes() => _fixture.Log.Entries.Count(e => e.Message.Contains("for nodes no search reaches", StringComparison.Ordinal)
        || e.Message.Contains("that no search reached", StringComparison.Ordinal));

    private int Linked() => _fixture.Log.Entries.Count(e => e.Message.Contains("that no search reached", StringComparison.Ordinal));

    private int Saves() => _fixture.Log.Entries.Count(e => e.Message.StartsWith("Saved the index of", StringComparison.Ordinal));
}
