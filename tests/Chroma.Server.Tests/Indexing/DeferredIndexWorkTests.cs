using Chroma.Protocol.V1;
using Chroma.Server.Indexing;
using Chroma.Server.Storage;
using Chroma.Server.Tests.Indexing.Hnsw;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// Work nothing waits for (the save right after a build, the first check of a graph read from a file) waits for a
/// quiet API (<see cref="EmbeddingSetIndexes.QuietFor"/>), at most <see cref="EmbeddingSetIndexes.MaximumDeferral"/>;
/// a poll wakes it once it may run. A real store and real builds; the API's activity is a flag the test sets.
/// </summary>
[TestFixture]
public sealed class DeferredIndexWorkTests
{
    private const int Dimension = 8;
    private static readonly EmbeddingSetDescriptor Set = Records.Set(Dimension);

    private IndexRegistryFixture _fixture = null!;
    private Record[] _records = null!;
    private volatile bool _quiet;

    [SetUp]
    public void SetUp()
    {
        _fixture = new IndexRegistryFixture(threshold: 300);
        _records = [.. TestVectors.Clustered(400, Dimension, clusters: 6, seed: 5).Select(v => Records.Make(v))];
        _quiet = false;
        _fixture.Indexes.QuietFor = IsQuiet;
    }

    [TearDown]
    public void TearDown() => _fixture.Dispose();

    [Test, CancelAfter(60_000)]
    public async Task BuildFinished_WhileTheApiIsBusy_SavesOnlyOnceItIsQuiet(CancellationToken cancellationToken)
    {
        // Arrange: a build takes over while calls keep arriving.
        var set = await BuiltAsync(cancellationToken);

        // Act
        await _fixture.Indexes.ApplyQueuedAsync(); // the take-over's turn
        _fixture.Indexes.Poll();
        await _fixture.Indexes.ApplyQueuedAsync();
        var savedWhileBusy = Saves();
        _quiet = true;
        _fixture.Indexes.Poll();
        await _fixture.Indexes.ApplyQueuedAsync();
        var savedOnceQuiet = Saves();
        _fixture.Restart();
        await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(savedWhileBusy, Is.Zero, "no save while the API is busy");
            Assert.That(savedOnceQuiet, Is.EqualTo(1), "the poll woke the set once the API was quiet");
            Assert.That(_fixture.Indexes.GetLoadReport(set), Is.EqualTo(new IndexLoadReport(true, 0, 0)), "the complete graph was saved");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task BuildFinished_ApiNeverQuiet_SavesAfterTheMaximumDeferral(CancellationToken cancellationToken)
    {
        // Arrange
        await BuiltAsync(cancellationToken);
        await _fixture.Indexes.ApplyQueuedAsync();
        _fixture.Clock.Advance(EmbeddingSetIndexes.MaximumDeferral - TimeSpan.FromSeconds(1));
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
        // Arrange: a saved graph, read by a restarted registry while calls keep arriving.
        _quiet = true;
        var set = await BuiltAsync(cancellationToken);
        await _fixture.Indexes.ApplyQueuedAsync();
        Assume.That(Saves(), Is.EqualTo(1));
        _fixture.Restart();
        _quiet = false;
        _fixture.Indexes.QuietFor = IsQuiet;
        var passesBefore = Passes();

        // Act
        var index = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        _fixture.Indexes.Poll();
        await _fixture.Indexes.ApplyQueuedAsync();
        var uncheckedWhileBusy = index.Hnsw!.NeverReconnected;
        _quiet = true;
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

    private bool IsQuiet(TimeSpan period)
    {
        Assert.That(period, Is.EqualTo(EmbeddingSetIndexes.QuietPeriod));
        return _quiet;
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
