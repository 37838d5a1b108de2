using Chroma.Protocol.V1;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Postgres;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Chroma.Server.Tests.Storage;

/// <summary>
/// A test on a new empty PostgreSQL database (<see cref="PostgresTestDatabase"/>: created before each test, dropped
/// after it; skipped without a PostgreSQL, failed under <c>CI=true</c>), with one fake clock for the stores it opens.
/// </summary>
[Category("postgres")]
public abstract class PostgresDatabaseTest
{
    private protected FakeTimeProvider Clock { get; } = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));

    private protected PostgresTestDatabase Database { get; private set; } = null!;

    [SetUp]
    public async Task CreateDatabaseAsync() => Database = await PostgresTestDatabase.CreateAsync();

    [TearDown]
    public void DropDatabase() => Database?.Dispose();

    /// <summary>
    /// Starts an ingest of records 1 to 100 of <paramref name="set"/> through <paramref name="writer"/> that stops just
    /// before its COMMIT (its sequences allocated, its rows not yet visible to anyone) and returns once it has stopped
    /// there: <c>Ingest</c> completes after <c>Release</c> is set.
    /// </summary>
    private protected static async Task<(Task Ingest, TaskCompletionSource Release)> IngestHeldBeforeCommitAsync(
        RecordStorage writer, EmbeddingSetDescriptor set, TimeSpan bound, CancellationToken cancellationToken)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ((PostgresRecordStore)writer.Records).BeforeCommitAsync = () =>
        {
            reached.TrySetResult();
            return release.Task;
        };
        var ingest = writer.Records.IngestAsync(Records.SetId(set), set, StoreFixture.Prepare(Records.Sequence(100, start: 1)), CancellationToken.None);
        await reached.Task.WaitAsync(bound, cancellationToken);
        return (ingest, release);
    }
}

/// <summary>
/// Two replicas of one PostgreSQL database (two stores, <see cref="A"/> and <see cref="B"/>, on the same fake clock),
/// opened after the database is created and closed before it is dropped.
/// </summary>
public abstract class PostgresReplicaPairTest : PostgresDatabaseTest
{
    private protected static readonly TimeSpan Lease = TimeSpan.FromSeconds(10);

    private protected RecordStorage A { get; private set; } = null!;

    private protected RecordStorage B { get; private set; } = null!;

    [SetUp]
    public void OpenReplicas()
    {
        A = Database.Open(Clock, RecordChangeObservers.None);
        B = Database.Open(Clock, RecordChangeObservers.None);
    }

    [TearDown]
    public void CloseReplicas()
    {
        A?.Dispose();
        B?.Dispose();
    }

    /// <summary>Stores 20 records of <see cref="Records.Set"/> through replica A and returns the set.</summary>
    private protected async Task<StoredEmbeddingSet> SeedAsync()
    {
        await A.Records.IngestAsync(Records.SetId(Records.Set()), Records.Set(), StoreFixture.Prepare(Records.Sequence(20)));
        return A.Records.FindSet(Records.SetId(Records.Set()))!;
    }
}
