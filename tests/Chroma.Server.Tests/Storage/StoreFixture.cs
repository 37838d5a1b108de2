using Chroma.Protocol.V1;
using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Chroma.Server.Tests.Storage;

/// <summary>
/// A real store (SQLite in a temp folder by default, or any <see cref="ITestDatabase"/>) with a fake
/// clock. The store calls the <see cref="Observers"/> a test adds, as the server's DI wiring does.
/// </summary>
internal sealed class StoreFixture : IDisposable
{
    private readonly ITestDatabase _database;
    private readonly RecordChangeObservers _observers;

    public StoreFixture()
        : this(new SqliteTestDatabase())
    {
    }

    public StoreFixture(ITestDatabase database)
    {
        _database = database;
        _observers = new RecordChangeObservers(() => [new FixtureObserver(this)]);
        Storage = _database.Open(Clock, _observers);
    }

    /// <summary>Gets a temp folder owned by the fixture (the SQLite file lives there when SQLite is used).</summary>
    public TempDirectory Directory => _database.Directory;

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));

    /// <summary>Gets the observers the store calls after each commit, in list order (tests add to it).</summary>
    public List<IRecordChangeObserver> Observers { get; } = [];

    /// <summary>Gets or sets whether commits go unobserved (a server that was down while records were stored).</summary>
    public bool Unobserved { get; set; }

    public RecordStorage Storage { get; private set; }

    public IRecordStore Store => Storage.Records;

    public IRecordScoreStore Scores => Storage.Scores;

    public static PreparedRecord[] Prepare(IEnumerable<Record> records) =>
        [.. records.Select(r => PreparedRecord.From(r, r.Id.ToLowerInvariant()))];

    public Task<IngestOutcome> IngestAsync(EmbeddingSetDescriptor set, params Record[] records) =>
        Store.IngestAsync(Records.SetId(set), set, Prepare(records)).WaitAsync(TimeSpan.FromSeconds(30));

    /// <summary>Closes the database and opens it again (a restart).</summary>
    public void Reopen()
    {
        Storage.Dispose();
        Storage = _database.Open(Clock, _observers);
    }

    public StoredEmbeddingSet RequireSet(EmbeddingSetDescriptor set) =>
        Store.FindSet(Records.SetId(set)) ?? throw new InvalidOperationException("set not stored");

    public void Dispose()
    {
        Storage.Dispose();
        _database.Dispose();
    }

    private sealed class FixtureObserver(StoreFixture fixture) : IRecordChangeObserver
    {
        public int Order => 0;

        public void OnRecordsStored(StoredEmbeddingSet set, IReadOnlyList<InsertedRecord> inserted)
        {
            if (!fixture.Unobserved)
            {
                fixture.Observers.ForEach(o => o.OnRecordsStored(set, inserted));
            }
        }

        public void OnRecordsDeleted(StoredEmbeddingSet set, IReadOnlyList<long> sequences)
        {
            if (!fixture.Unobserved)
            {
                fixture.Observers.ForEach(o => o.OnRecordsDeleted(set, sequences));
            }
        }
    }
}
