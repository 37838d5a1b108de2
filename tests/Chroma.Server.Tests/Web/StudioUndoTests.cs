using Chroma.Server.Web;
using Chroma.Server.Tests.Storage;
using Chroma.Server.Tests.TestSupport;
using Chroma.Server.Web.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chroma.Server.Tests.Web;

/// <summary>
/// Undo of Studio's tag and delete on a real SQLite store with a fake clock: a tag undo restores each record's
/// previous values (removing keys that were absent); a delete waits out the window, undo keeps the records, and
/// the server stopping commits what still waits.
/// </summary>
[TestFixture]
public sealed class StudioUndoTests
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private StoreFixture _fixture = null!;
    private Chroma.Server.Storage.StoredEmbeddingSet _set = null!;
    private List<Protocol.V1.Record> _records = null!;

    [SetUp]
    public async Task SeedAsync()
    {
        _fixture = new StoreFixture();
        _records = [.. Enumerable.Range(0, 4).Select(i => Records.Make([i, 0, 0, 0], metadata: i == 0 ? new Dictionary<string, string> { ["review"] = "old" } : null))];
        await _fixture.IngestAsync(Records.Set(), [.. _records]);
        _set = _fixture.RequireSet(Records.Set());
    }

    [TearDown]
    public void Dispose() => _fixture.Dispose();

    [Test]
    [CancelAfter(30_000)]
    public async Task UndoAsync_AfterTag_RestoresPreviousValuesAndRemovesNewKeys(CancellationToken cancellationToken)
    {
        await using var undo = Create();
        var (tagged, token) = await undo.TagAsync(_set, [_records[0].Id, _records[1].Id], new Dictionary<string, string> { ["review"] = "new" }, cancellationToken);

        var result = await undo.UndoAsync(token, cancellationToken);
        var again = await undo.UndoAsync(token, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(tagged, Is.EqualTo(2));
            Assert.That(result, Is.EqualTo(new UndoResult("tag", 2)));
            Assert.That(Metadata(0), Is.EquivalentTo(new Dictionary<string, string> { ["review"] = "old" }), "the old value is back");
            Assert.That(Metadata(1), Is.Empty, "a key that was absent is removed");
            Assert.That(again, Is.Null, "a token undoes once");
        });
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task DeferDelete_WindowPasses_DeletesAndUndoIsRefused(CancellationToken cancellationToken)
    {
        await using var undo = Create();
        var token = undo.DeferDelete(_set, Stored(1, 2));
        var pendingBefore = undo.PendingDeletes(_set).Count;
        var liveBefore = Live();

        _fixture.Clock.Advance(Window);
        await WaitUntilAsync(() => Live() == 2, cancellationToken);
        var result = await undo.UndoAsync(token, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(pendingBefore, Is.EqualTo(2), "hidden from the map and the queue at once");
            Assert.That(liveBefore, Is.EqualTo(4), "but still stored during the window");
            Assert.That(undo.PendingDeletes(_set), Is.Empty);
            Assert.That(result, Is.Null);
        });
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task PendingDeleteUntil_DeleteWaitingOutItsWindow_TheEndOfTheWindowForItsRecordsOnlyAndNothingAfterUndo(CancellationToken cancellationToken)
    {
        // Probe N, N10: a record deleted in one tab, inside its undo window, showed as "unreviewed" in another.
        await using var undo = Create();
        var deleted = Stored(1, 2);
        var token = undo.DeferDelete(_set, deleted);
        var expected = _fixture.Clock.GetUtcNow() + Window;

        var pending = undo.PendingDeleteUntil(_set, deleted[0].Sequence);
        var kept = undo.PendingDeleteUntil(_set, Stored(0)[0].Sequence);
        await undo.UndoAsync(token, cancellationToken);
        var afterUndo = undo.PendingDeleteUntil(_set, deleted[0].Sequence);

        Assert.Multiple(() =>
        {
            Assert.That(pending, Is.EqualTo(expected));
            Assert.That(kept, Is.Null, "a record not deleted");
            Assert.That(afterUndo, Is.Null);
        });
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task UndoAsync_DeleteWithinWindow_KeepsRecordsAfterWindow(CancellationToken cancellationToken)
    {
        await using var undo = Create();
        var token = undo.DeferDelete(_set, Stored(1, 2));
        _fixture.Clock.Advance(Window / 2);

        var result = await undo.UndoAsync(token, cancellationToken);
        _fixture.Clock.Advance(Window);

        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(new UndoResult("delete", 2)));
            Assert.That(undo.PendingDeletes(_set), Is.Empty);
            Assert.That(Live(), Is.EqualTo(4));
        });
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task DisposeAsync_DeleteStillWaiting_IsCommitted()
    {
        var undo = Create();
        undo.DeferDelete(_set, Stored(3));

        await undo.DisposeAsync();

        Assert.That(Live(), Is.EqualTo(3));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task UndoAsync_UnknownOrExpiredTagToken_ReturnsNull(CancellationToken cancellationToken)
    {
        await using var undo = Create();
        var (_, token) = await undo.TagAsync(_set, [_records[2].Id], new Dictionary<string, string> { ["k"] = "v" }, cancellationToken);
        _fixture.Clock.Advance(Window + TimeSpan.FromSeconds(1));

        Assert.Multiple(async () =>
        {
            Assert.That(await undo.UndoAsync("not-a-token", cancellationToken), Is.Null);
            Assert.That(await undo.UndoAsync(token, cancellationToken), Is.Null);
            Assert.That(Metadata(2), Is.EquivalentTo(new Dictionary<string, string> { ["k"] = "v" }), "an expired tag stays");
        });
    }

    private StudioUndo Create()
    {
        var options = new WebOptions { UndoWindow = Window };
        return new StudioUndo(_fixture.Store, options, _fixture.Clock, NullLogger<StudioUndo>.Instance);
    }

    private List<Protocol.V1.StoredRecord> Stored(params int[] rows) =>
        [.. _fixture.Store.GetRecordsByIds(_set, [.. rows.Select(r => _records[r].Id.ToLowerInvariant())], includeEmbeddings: false)];

    private Dictionary<string, string> Metadata(int row) =>
        _fixture.Store.GetRecordsByIds(_set, [_records[row].Id.ToLowerInvariant()], includeEmbeddings: false).Single().Record.Metadata.ToDictionary();

    private long Live() => _fixture.Store.CountRecords(_set, Chroma.Server.Storage.RecordSelection.All);

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(10, cancellationToken);
        }
    }
}
