using Chroma.Protocol.V1;
using Chroma.Server.Hosting;
using Chroma.Server.Indexing;
using Chroma.Server.Storage;
using Chroma.Server.Tests.Storage;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// Indexes that tail a PostgreSQL store shared by several servers: a late-committing writer is never skipped, another
/// server's deletions reach the index, and a FindNearest on one server sees a batch acknowledged by another.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class IndexTailingPostgresTests : PostgresDatabaseTest
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    [Test, CancelAfter(120_000)]
    public async Task CatchUp_WriterCommitsLateWhileAnotherWrites_IndexEndsWithEveryRecord(CancellationToken cancellationToken)
    {
        // Arrange: two replicas on one database; replica B's index tails the set.
        using var replicaA = Database.Open(Clock, RecordChangeObservers.None);
        using var replicaB = Database.Open(Clock, RecordChangeObservers.None);
        using var indexes = Indexes(replicaB.Records);
        var set = Records.Set();
        var setId = Records.SetId(set);
        await replicaA.Records.IngestAsync(setId, set, StoreFixture.Prepare(Records.Sequence(1)), cancellationToken).WaitAsync(Bound, cancellationToken);
        var stored = replicaB.Records.FindSet(setId)!;
        await indexes.LoadAsync(stored).WaitAsync(Bound, cancellationToken);

        // A's next group stops just before COMMIT: its sequences are allocated, its rows not yet visible.
        var (late, release) = await IngestHeldBeforeCommitAsync(replicaA, set, Bound, cancellationToken);

        // Act: B writes meanwhile and the index tails while A's transaction is open. With sequences from a bigserial, B's
        // larger sequences would commit first and the cursor would pass A's rows for good.
        var other = replicaB.Records.IngestAsync(setId, set, StoreFixture.Prepare(Records.Sequence(100, start: 101)), CancellationToken.None);
        await Task.WhenAny(other, Task.Delay(TimeSpan.FromSeconds(2), cancellationToken));
        indexes.Poll();
        await indexes.ApplyQueuedAsync().WaitAsync(Bound, cancellationToken);
        var whileOpen = indexes.IndexedThroughSequence(stored);
        release.SetResult();
        await Task.WhenAll(late, other).WaitAsync(Bound, cancellationToken);
        indexes.Poll();
        await indexes.ApplyQueuedAsync().WaitAsync(Bound, cancellationToken);

        // Assert: every record is in the index, each found at distance 0 by its own vector.
        var index = await indexes.LoadAsync(stored);
        var missing = Enumerable.Range(0, 201).Where(i => index.Search([i, 0, 0, 0], 1) is not [{ Distance: 0 }]).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(whileOpen, Is.EqualTo(1), "nothing of the open transaction or the writer behind it was visible");
            Assert.That(index.Count, Is.EqualTo(201));
            Assert.That(missing, Is.Empty, "records the index never got");
            Assert.That(indexes.IndexedThroughSequence(stored), Is.EqualTo(replicaB.Records.ReadLastSequence(stored)));
        });
    }

    [Test, CancelAfter(120_000)]
    public async Task CatchUp_AnotherReplicaDeletes_RecordLeavesTheIndex(CancellationToken cancellationToken)
    {
        // Arrange
        using var replicaA = Database.Open(Clock, RecordChangeObservers.None);
        using var replicaB = Database.Open(Clock, RecordChangeObservers.None);
        using var indexes = Indexes(replicaB.Records);
        var set = Records.Set();
        var setId = Records.SetId(set);
        var records = Records.Sequence(10);
        await replicaA.Records.IngestAsync(setId, set, StoreFixture.Prepare(records), cancellationToken).WaitAsync(Bound, cancellationToken);
        var stored = replicaB.Records.FindSet(setId)!;
        var index = await indexes.LoadAsync(stored).WaitAsync(Bound, cancellationToken);

        // Act: A deletes; B's index hears nothing but polls, as after a missed notice.
        await replicaA.Records.DeleteAsync(replicaA.Records.FindSet(setId)!, [records[7].Id], cancellationToken).WaitAsync(Bound, cancellationToken);
        indexes.Poll();
        await indexes.ApplyQueuedAsync().WaitAsync(Bound, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(index.Count, Is.EqualTo(9));
            Assert.That(index.Search([7, 0, 0, 0], 1).Single().Distance, Is.EqualTo(1f), "7 is gone; 6 or 8 is nearest");
        });
    }

    [Test, CancelAfter(240_000)]
    public async Task FindNearest_BatchAcknowledgedByAnotherServer_FoundRightAway(CancellationToken cancellationToken)
    {
        // Arrange: two servers on one PostgreSQL database, each with its own data directory; B never polls, so only the
        // query's own wait (and a notice) can bring A's batches into B's index.
        await using var serverA = await RunningServer.StartAsync(o => UsePostgres(o));
        await using var serverB = await RunningServer.StartAsync(o => { UsePostgres(o); o.Indexing.PollInterval = TimeSpan.FromHours(1); });
        var set = Records.Set(model: "replicas");
        var setId = Records.SetId(set);
        var misses = new List<int>();

        // Act: after each acknowledged batch through A, ask B for the batch's last record by its vector.
        for (var round = 0; round < 20; round++)
        {
            var batch = Records.Sequence(50, start: round * 50);
            var ack = (await serverA.LogAsync(Records.Batch(set, batch))).Single();
            Assert.That(ack.Accepted, Is.EqualTo(50));
            var found = await serverB.Query.FindNearestAsync(
                new FindNearestRequest { SetId = setId, K = 1, Embedding = new Vector { Values = { batch[^1].Embedding } } },
                deadline: DateTime.UtcNow.AddSeconds(30),
                cancellationToken: cancellationToken);
            if (found.Neighbors is not [{ Distance: 0 } only] || only.Record.Record.Id != batch[^1].Id)
            {
                misses.Add(round);
            }
        }

        // Assert
        var indexesB = serverB.Server.Services.GetRequiredService<EmbeddingSetIndexes>();
        Assert.Multiple(() =>
        {
            Assert.That(misses, Is.Empty, "rounds whose batch B did not find");
            Assert.That(indexesB.CatchUpTimeouts, Is.Zero, "no query waited out IndexCatchUpTimeout");
        });
    }

    private void UsePostgres(ChromaServerOptions options)
    {
        options.Storage.Provider = StorageProvider.Postgres;
        options.Storage.ConnectionString = Database.ConnectionString;
    }

    private EmbeddingSetIndexes Indexes(IRecordStore store) =>
        new(store, new IndexingOptions { ExactSearchThreshold = 10_000 }, Path.Combine(Database.Directory.Path, "indexes"), Clock, NullLogger<EmbeddingSetIndexes>.Instance);
}
