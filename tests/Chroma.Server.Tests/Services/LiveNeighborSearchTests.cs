using Chroma.Server.Indexing;
using Chroma.Server.Storage;
using Chroma.Server.Services.Internal;
using Chroma.Server.Tests.Indexing;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Services;

/// <summary>
/// FindNearest's answer holds k live records while the index still holds records the store has deleted (the index
/// applies deletions behind the store: for seconds while its graph is built). Before, the deleted ones were dropped
/// after the search and the answer came back short, exact searches included. A real index and store; the deletions
/// are made while no index listens, so the index keeps them.
/// </summary>
[TestFixture]
public sealed class LiveNeighborSearchTests
{
    private static readonly float[] Query = [0, 0, 0, 0];
    private IndexRegistryFixture _fixture = null!;

    [SetUp]
    public void SetUp() => _fixture = new IndexRegistryFixture(threshold: 10_000);

    [TearDown]
    public void TearDown() => _fixture.Dispose();

    [Test, CancelAfter(30_000)]
    public async Task Find_NearestRecordsDeletedButStillIndexed_SearchesDeeperAndReturnsKLiveOnesInOrder(CancellationToken cancellationToken)
    {
        // Arrange: records 0..99 at [i, 0, 0, 0]; the 30 nearest the origin deleted behind the index.
        var (set, index, records) = await IndexedAsync(100, cancellationToken);
        await _fixture.DeleteUnindexedAsync(set, [.. records.Take(30).Select(r => r.Id)]);
        Assert.That(Read(set)([.. index.Search(Query, 10).Select(n => n.Sequence)]), Is.Empty, "the index still answers with deleted records only");

        // Act
        var searched = new List<int>();
        var found = LiveNeighborSearch.Find(10, depth => { searched.Add(depth); return index.Search(Query, depth); }, Read(set));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(found.Select(n => n.Record.Record.Id), Is.EqualTo(records.Skip(30).Take(10).Select(r => r.Id)));
            Assert.That(searched, Is.EqualTo(new[] { 10, 40 }), "one deeper search");
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Find_FewerLiveRecordsThanK_ReturnsEveryLiveOneOnceTheIndexHasNoMore(CancellationToken cancellationToken)
    {
        var (set, index, records) = await IndexedAsync(100, cancellationToken);
        await _fixture.DeleteUnindexedAsync(set, [.. records.Take(96).Select(r => r.Id)]);

        var searched = new List<int>();
        var found = LiveNeighborSearch.Find(10, depth => { searched.Add(depth); return index.Search(Query, depth); }, Read(set));

        Assert.Multiple(() =>
        {
            Assert.That(found.Select(n => n.Record.Record.Id), Is.EqualTo(records.Skip(96).Select(r => r.Id)));
            Assert.That(searched, Is.EqualTo(new[] { 10, 40, 160 }), "stops when the index returns fewer than asked");
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Find_NothingDeleted_SearchesOnce(CancellationToken cancellationToken)
    {
        var (set, index, records) = await IndexedAsync(100, cancellationToken);

        var searched = new List<int>();
        var found = LiveNeighborSearch.Find(5, depth => { searched.Add(depth); return index.Search(Query, depth); }, Read(set));

        Assert.Multiple(() =>
        {
            Assert.That(found.Select(n => n.Record.Record.Id), Is.EqualTo(records.Take(5).Select(r => r.Id)));
            Assert.That(searched, Is.EqualTo(new[] { 5 }));
        });
    }

    [Test]
    public void Find_EveryRecordDeleted_StopsAtTheMaximumDepth()
    {
        // An index that always has more (a huge set) but nothing live: the depth is bounded.
        var searched = new List<int>();
        var found = LiveNeighborSearch.Find(
            10,
            depth => { searched.Add(depth); return [.. Enumerable.Range(0, depth).Select(i => new VectorNeighbor(i, i))]; },
            _ => []);

        Assert.Multiple(() =>
        {
            Assert.That(found, Is.Empty);
            Assert.That(searched, Is.EqualTo(new[] { 10, 40, 160, 640, LiveNeighborSearch.MaxDepth(10) }));
        });
    }

    private async Task<(StoredEmbeddingSet Set, IVectorIndex Index, Protocol.V1.Record[] Records)> IndexedAsync(int count, CancellationToken cancellationToken)
    {
        var records = Records.Sequence(count);
        await _fixture.IngestAsync(Records.Set(), records);
        var set = _fixture.Store.RequireSet(Records.Set());
        var index = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        return (set, index, records);
    }

    private Func<IReadOnlyList<long>, IReadOnlyList<Protocol.V1.StoredRecord>> Read(StoredEmbeddingSet set) =>
        sequences => _fixture.Store.Store.GetRecordsBySequence(set, sequences, includeEmbeddings: false);
}
