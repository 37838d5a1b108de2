using System.Collections.Concurrent;
using Chroma.Server.Storage;

namespace Chroma.Server.Indexing;

/// <summary>
/// One vector index per embedding set, loaded from the store on the first search and kept in
/// step with it afterwards: the store calls <see cref="OnRecordsStored"/> and
/// <see cref="OnRecordsDeleted"/> after each commit. A set never searched costs no memory.
/// </summary>
internal sealed class EmbeddingSetIndexes : IDisposable
{
    private readonly IRecordStore _store;
    private readonly IVectorIndexFactory _factory;
    private readonly ConcurrentDictionary<long, Entry> _entries = new();

    /// <summary>Creates the registry over <paramref name="store"/>.</summary>
    public EmbeddingSetIndexes(IRecordStore store, IVectorIndexFactory factory)
    {
        _store = store;
        _factory = factory;
    }

    /// <summary>The <paramref name="k"/> nearest live records of <paramref name="set"/>, nearest first.</summary>
    public IReadOnlyList<VectorNeighbor> Search(StoredEmbeddingSet set, ReadOnlySpan<float> query, int k, string? dataset)
    {
        ArgumentNullException.ThrowIfNull(set);
        var entry = _entries.GetOrAdd(set.Key, _ => new Entry());
        EnsureLoaded(entry, set);
        entry.Gate.EnterReadLock();
        try
        {
            return entry.Index!.Search(query, k, dataset);
        }
        finally
        {
            entry.Gate.ExitReadLock();
        }
    }

    /// <summary>Adds newly committed records to the set's index, if it is loaded.</summary>
    public void OnRecordsStored(StoredEmbeddingSet set, IReadOnlyList<InsertedRecord> inserted)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(inserted);
        if (!_entries.TryGetValue(set.Key, out var entry))
        {
            return; // not loaded: the first search reads these from the store
        }

        entry.Gate.EnterWriteLock();
        try
        {
            if (entry.Index is null)
            {
                return;
            }

            foreach (var record in inserted)
            {
                // A load that ran after this commit already read the record.
                if (record.Sequence > entry.LoadedThroughSequence)
                {
                    entry.Index.Add(record.Sequence, record.Record.Vector, record.Record.Dataset);
                }
            }
        }
        finally
        {
            entry.Gate.ExitWriteLock();
        }
    }

    /// <summary>Removes deleted records from the set's index, if it is loaded.</summary>
    public void OnRecordsDeleted(StoredEmbeddingSet set, IReadOnlyList<long> sequences)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(sequences);
        if (!_entries.TryGetValue(set.Key, out var entry))
        {
            return;
        }

        entry.Gate.EnterWriteLock();
        try
        {
            foreach (var sequence in sequences)
            {
                entry.Index?.Remove(sequence);
            }
        }
        finally
        {
            entry.Gate.ExitWriteLock();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var entry in _entries.Values)
        {
            entry.Gate.Dispose();
        }
    }

    private void EnsureLoaded(Entry entry, StoredEmbeddingSet set)
    {
        if (Volatile.Read(ref entry.Index) is not null)
        {
            return;
        }

        // Loading under the write lock makes commits wait until the snapshot is in place, so
        // each record lands in the index exactly once (by the load, or by OnRecordsStored).
        entry.Gate.EnterWriteLock();
        try
        {
            if (entry.Index is not null)
            {
                return;
            }

            var index = _factory.Create(set.Dimension);
            var loadedThrough = _store.ReadVectors(set, (sequence, vector, dataset) => index.Add(sequence, vector, dataset));
            entry.LoadedThroughSequence = loadedThrough;
            Volatile.Write(ref entry.Index, index);
        }
        finally
        {
            entry.Gate.ExitWriteLock();
        }
    }

    private sealed class Entry
    {
#pragma warning disable CA1051 // Fields, not properties: passed by ref to Volatile.Read/Write.
        public IVectorIndex? Index;
#pragma warning restore CA1051

        public ReaderWriterLockSlim Gate { get; } = new(LockRecursionPolicy.NoRecursion);

        public long LoadedThroughSequence { get; set; }
    }
}
