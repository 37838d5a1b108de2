using Chroma.Protocol.V1;
using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Chroma.Server.Tests.Storage;

/// <summary>A real SQLite store in a temp folder, with a fake clock.</summary>
internal sealed class StoreFixture : IDisposable
{
    public StoreFixture()
    {
        Store = SqliteRecordStore.Open(Directory.Path, Clock);
    }

    public TempDirectory Directory { get; } = new();

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));

    public SqliteRecordStore Store { get; private set; }

    public static PreparedRecord[] Prepare(IEnumerable<Record> records) => [.. records.Select(PreparedRecord.From)];

    public Task<IngestOutcome> IngestAsync(EmbeddingSetDescriptor set, params Record[] records) =>
        Store.IngestAsync(set, Prepare(records)).WaitAsync(TimeSpan.FromSeconds(30));

    /// <summary>Closes the database and opens it again from the same folder.</summary>
    public void Reopen()
    {
        Store.Dispose();
        Store = SqliteRecordStore.Open(Directory.Path, Clock);
    }

    public StoredEmbeddingSet RequireSet(EmbeddingSetDescriptor set) =>
        Store.FindSet(Records.SetId(set)) ?? throw new InvalidOperationException("set not stored");

    public void Dispose()
    {
        Store.Dispose();
        Directory.Dispose();
    }
}
