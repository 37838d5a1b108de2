using Chroma.Server.Indexing;
using Chroma.Server.Tests.Storage;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Indexing;

[TestFixture]
public sealed class EmbeddingSetIndexesTests
{
    private StoreFixture _fixture = null!;
    private EmbeddingSetIndexes _indexes = null!;

    [SetUp]
    public void SetUp()
    {
        _fixture = new StoreFixture();
        _indexes = new EmbeddingSetIndexes(_fixture.Store, new BruteForceVectorIndexFactory());
    }

    [TearDown]
    public void TearDown()
    {
        _indexes.Dispose();
        _fixture.Dispose();
    }

    [Test, CancelAfter(30_000)]
    public async Task Search_FirstQuery_LoadsStoredVectorsFromTheStore()
    {
        // Arrange: stored without the registry knowing.
        await _fixture.IngestAsync(Records.Set(), Records.Sequence(10));
        var set = _fixture.RequireSet(Records.Set());

        // Act
        var found = _indexes.Search(set, [6.9f, 0, 0, 0], 2, "training");

        // Assert: 5 is production (every fifth), so the nearest training records are 7 and 6.
        var ids = _fixture.Store.GetRecordsBySequence(set, [.. found.Select(n => n.Sequence)], true);
        Assert.That(ids.Select(r => r.Record.Embedding[0]), Is.EqualTo(new[] { 7f, 6f }));
    }

    [Test, CancelAfter(30_000)]
    public async Task OnRecordsStoredAndDeleted_AfterLoad_KeepIndexInStepWithStore()
    {
        // Arrange
        await _fixture.IngestAsync(Records.Set(), Records.Sequence(3));
        var set = _fixture.RequireSet(Records.Set());
        _indexes.Search(set, [0, 0, 0, 0], 1, null);
        var later = Records.Sequence(1, start: 100);

        // Act
        await _fixture.Store.IngestAsync(Records.Set(), StoreFixture.Prepare(later), _indexes.OnRecordsStored);
        var afterInsert = _indexes.Search(set, [100, 0, 0, 0], 1, null).Single();
        await _fixture.Store.DeleteAsync(set, [later[0].Id], _indexes.OnRecordsDeleted);
        var afterDelete = _indexes.Search(set, [100, 0, 0, 0], 1, null).Single();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(afterInsert.Distance, Is.Zero, "the new record is found");
            Assert.That(afterDelete.Distance, Is.EqualTo(98f * 98f), "the deleted record is gone; record 2 is next");
        });
    }
}
