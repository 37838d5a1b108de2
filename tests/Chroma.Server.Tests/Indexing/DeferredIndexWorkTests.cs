using Chroma.Protocol.V1;
using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Internal;
using Chroma.Server.Services.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Tests.Indexing.Hnsw;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// Work nothing waits for (the save right after a build, the first check of a graph read from a file, a new estimate of
/// a graph that has one) waits for a
/// quiet API (<see cref="GrpcActivity.QuietPeriod"/>), at most <see cref="GrpcActivity.MaximumDeferral"/>; a poll wakes
/// it once it may run. A real store, real builds and the server's activity tracker on the fixture's clock; the test
/// begins and ends calls on it.
/// </summary>
[TestFixture]
public sealed class DeferredIndexWorkTests
{
    private const int Dimension = 8;
    private static readonly EmbeddingSetDescriptor Set = Records.Set(Dimension);

    private IndexRegistryFixture _fixture = null!;
    private Record[] _records = null!;
    private GrpcActivity _activity = null!;

    [SetUp]
    public void SetUp()
    {
        _fixture = new IndexRegistryFixture(threshold: 300);
        _records = [.. TestVectors.Clustered(400, Dimension, clusters: 6, seed: 5).Select(v => Records.Make(v))];
        _activity = new GrpcActivity(_fixture.Clock);
        _fixture.Indexes.MayRunDeferredWork = _activity.MayRunDeferred;
    }

    [TearDown]
    public void TearDown() => _fixture.Dispose();

    [Test, CancelAfter(60_000)]
    public async Task BuildFinished_WhileTheApiIsBusy_SavesOnlyOnceItIsQuiet(CancellationToken cancellationToken)
    {
        // Arrange: a build takes over while a call is in flight.
        _activity.Begin();
        var set = await BuiltAsync(cancellationToken);

        // Act
        await _fixture.Indexes.ApplyQueuedAsync(); // the take-over's turn
        _fixture.Indexes.Poll();
        await _fixture.Indexes.ApplyQueuedAsync();
        var savedWhileBusy = Saves();
        _activity.End();
        _fixture.Clock.Advance(GrpcActivity.QuietPeriod - TimeSpan.FromMilliseconds(1));
        _fixture.Indexes.Poll();
        await _fixture.Indexes.ApplyQueuedAsync();
        var savedJustBeforeQuiet = Saves();
        _fixture.Clock.Advance(TimeSpan.FromMilliseconds(1));
        _fixture.Indexes.Poll();
        await _fixture.Indexes.ApplyQueuedAsync();
        var savedOnceQuiet = Saves();
        _fixture.Restart();
        await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(savedWhileBusy, Is.Zero, "no save while the API is busy");
            Assert.That(savedJustBeforeQuiet, Is.Zero, "no save until the API has been quiet for QuietPeriod");
            Assert.That(savedOnceQuiet, Is.EqualTo(1), "the poll woke the set once the API was quiet");
            Assert.That(_fixture.Indexes.GetLoadReport(set), Is.EqualTo(new IndexLoadReport(true, 0, 0)), "the complete graph was saved");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task BuildFinished_ApiNeverQuiet_SavesAfterTheMaximumDeferral(CancellationToken cancellationToken)
    {
        // Arrange: a call stays in flight throughout.
        _activity.Begin();
        await BuiltAsync(cancellationToken);
        await _fixture.Indexes.ApplyQueuedAsync();
        _fixture.Clock.Advance(GrpcActivity.MaximumDeferral - TimeSpan.FromSeconds(1));
        _fixture.Indexes.Poll();
        await _fixture.Indexes.ApplyQueuedAsync();
        var savedBefore = Saves();

        // Act
        _fixture.Clock.Advance(TimeSpan.FromSeconds(1));
        _fixture.Indexes.Poll();
        await _fixture.Indexes.ApplyQueuedAsync();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(savedBefore, Is.Zero, "a second short of the maximum deferral");
            Assert.That(Saves(), Is.EqualTo(1), "saved once it had waited that long");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task GraphReadFromFile_WhileTheApiIsBusy_IsCheckedOnlyOnceItIsQuiet(CancellationToken cancellationToken)
    {
        // Arrange: a saved graph (the API quiet meanwhile) whose file records no check (as an older version's), read by a
        // restarted registry while a call is in flight.
        var set = await SavedThenRestartedWhileBusyAsync(cancellationToken, asOlderVersionsFile: true);
        var passesBefore = Passes();

        // Act
        var index = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        _fixture.Indexes.Poll();
        await _fixture.Indexes.ApplyQueuedAsync();
        var uncheckedWhileBusy = index.Hnsw!.NeverReconnected;
        _activity.End();
        _fixture.Clock.Advance(GrpcActivity.QuietPeriod);
        _fixture.Indexes.Poll();
        await _fixture.Indexes.ApplyQueuedAsync();
        await index.ReconnectCompletion.WaitAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(_fixture.Indexes.GetLoadReport(set)!.FromFile, Is.True);
            Assert.That(uncheckedWhileBusy, Is.True, "the loaded graph's check waits while the API is busy");
            Assert.That(index.Hnsw!.NeverReconnected, Is.False, "checked once the API was quiet");
            Assert.That(Passes() - passesBefore, Is.EqualTo(1), "the check logged its pass");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task GraphReadFromFile_EstimateToBeTakenAgain_WaitsForAQuietApiEvenWhenRecordsArrive(CancellationToken cancellationToken)
    {
        // Arrange: a saved graph with an estimate, read by a restarted registry while a call is in flight; its estimate
        // then counts as one of an older scheme (as after an upgrade), which is to be taken again.
        var set = await SavedThenRestartedWhileBusyAsync(cancellationToken);
        var index = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        var old = index.Hnsw!.Estimate! with { Scheme = 0 };
        index.Hnsw.Estimate = old;

        // Act: records arrive (the set's turn runs) while the API is busy, then it goes quiet
        await _fixture.IngestAsync(Set, Records.Make(_records[0].Embedding.Select(x => x + 0.5f).ToArray()));
        _fixture.Indexes.Poll();
        await _fixture.Indexes.ApplyQueuedAsync();
        await index.EstimateCompletion.WaitAsync(cancellationToken);
        var whileBusy = index.Hnsw.Estimate;
        _activity.End();
        _fixture.Clock.Advance(GrpcActivity.QuietPeriod);
        _fixture.Indexes.Poll();
        await _fixture.Indexes.ApplyQueuedAsync();
        await index.EstimateCompletion.WaitAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(index.Count, Is.EqualTo(401), "precondition: the new record was read");
            Assert.That(whileBusy, Is.SameAs(old), "the loaded estimate serves while the API is busy");
            Assert.That(index.Hnsw.Estimate!.Scheme, Is.EqualTo(RecallEstimator.Scheme), "taken again once the API was quiet");
            Assert.That(index.Hnsw.Estimate.AtCount, Is.EqualTo(401));
        });
    }

    /// <summary>
    /// A graph built and saved while the API was quiet, then a restarted registry (nothing loaded yet) and a call that
    /// stays in flight until the test ends it.
    /// </summary>
    private async Task<StoredEmbeddingSet> SavedThenRestartedWhileBusyAsync(CancellationToken cancellationToken, bool asOlderVersionsFile = false)
    {
        _fixture.Clock.Advance(GrpcActivity.QuietPeriod);
        var set = await BuiltAsync(cancellationToken);
        await _fixture.Indexes.ApplyQueuedAsync();
        Assume.That(Saves(), Is.EqualTo(1));
        if (asOlderVersionsFile)
        {
            // Files written before the header recorded the graph's last check for unreachable nodes get one at their load.
            var path = Path.Combine(_fixture.Indexes.IndexDirectory, set.Key + ".hnsw");
            var (header, graph) = SetIndexFile.Load(path);
            using (graph)
            {
                SetIndexFile.Save(path, header with { AddsSinceReconnect = null }, graph);
            }
        }

        _fixture.Restart();
        _fixture.Indexes.MayRunDeferredWork = _activity.MayRunDeferred;
        _activity.Begin();
        return set;
    }

    /// <summary>Stores 400 records (above the exact-search threshold) and waits until the graph built from them took over.</summary>
    private async Task<StoredEmbeddingSet> BuiltAsync(CancellationToken cancellationToken)
    {
        await _fixture.IngestAsync(Set, _records);
        var set = _fixture.Store.RequireSet(Set);
        await _fixture.Indexes.ApplyQueuedAsync();
        var index = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        await index.BuildCompletion.WaitAsync(cancellationToken);
        Assume.That(index.Hnsw, Is.Not.Null);
        return set;
    }

    private int Passes() => _fixture.Log.Entries.Count(e => e.Message.Contains("for nodes no search reaches", StringComparison.Ordinal)
        || e.Message.Contains("that no search reached", StringComparison.Ordinal));

    private int Saves() => _fixture.Log.Entries.Count(e => e.Message.StartsWith("Saved the index of", StringComparison.Ordinal));
}
