using Microsoft.Extensions.Logging;
using Chroma.Protocol.V1;
using Chroma.Server.Indexing;
using Chroma.Server.Storage;
using Chroma.Server.Tests.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Chroma.Server.Tests.Indexing;

/// <summary>A real store in a temp folder plus an <see cref="EmbeddingSetIndexes"/> over it that a test can reopen.</summary>
internal sealed class IndexRegistryFixture : IDisposable
{
    public IndexRegistryFixture(int threshold)
    {
        Options = new IndexingOptions { ExactSearchThreshold = threshold };
        Indexes = Create();
    }

    public StoreFixture Store { get; } = new();

    public IndexingOptions Options { get; }

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));

    public RecordingLogger<EmbeddingSetIndexes> Log { get; } = new();

    public EmbeddingSetIndexes Indexes { get; private set; }

    /// <summary>Stores <paramref name="records"/> and queues them for the index, as the ingest path does.</summary>
    public Task<IngestOutcome> IngestAsync(EmbeddingSetDescriptor set, params Record[] records) => Store.IngestAsync(set, records);

    /// <summary>Stores records while no index listens (a server that was down, or a crash before the save).</summary>
    public async Task<IngestOutcome> IngestUnindexedAsync(EmbeddingSetDescriptor set, params Record[] records)
    {
        Store.Unobserved = true;
        try
        {
            return await Store.IngestAsync(set, records);
        }
        finally
        {
            Store.Unobserved = false;
        }
    }

    /// <summary>Deletes records while no index listens.</summary>
    public async Task<long> DeleteUnindexedAsync(StoredEmbeddingSet set, params string[] ids)
    {
        Store.Unobserved = true;
        try
        {
            return await DeleteAsync(set, ids);
        }
        finally
        {
            Store.Unobserved = false;
        }
    }

    public Task<long> DeleteAsync(StoredEmbeddingSet set, params string[] ids) =>
        Store.Store.DeleteAsync(set, ids).WaitAsync(TimeSpan.FromSeconds(30));

    /// <summary>Drops the registry (as a restart does) and creates a new one over the same folder.</summary>
    public void Restart()
    {
        Indexes.Dispose();
        Indexes = Create();
    }

    /// <summary>Replaces the registry by one that reads the store through <paramref name="store"/> (a decorator of <see cref="StoreFixture.Store"/>).</summary>
    public void RestartOver(IRecordStore store)
    {
        Indexes.Dispose();
        Indexes = Create(store);
    }

    public void Dispose()
    {
        Indexes.Dispose();
        Store.Dispose();
    }

    // The store tells the current registry about commits, as the server's observer wiring does.
    private EmbeddingSetIndexes Create(IRecordStore? store = null)
    {
        var indexes = new EmbeddingSetIndexes(store ?? Store.Store, Options, Path.Combine(Store.Directory.Path, "indexes"), Clock, Log);
        Store.Observers.Clear();
        Store.Observers.Add(indexes);
        return indexes;
    }
}

/// <summary>Keeps the level and message of every entry, so tests can assert that a warning was logged.</summary>
internal sealed class RecordingLogger<T> : ILogger<T>
{
    public List<(LogLevel Level, string Message)> Entries { get; } = [];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Entries)
        {
            Entries.Add((logLevel, formatter(state, exception)));
        }
    }
}
