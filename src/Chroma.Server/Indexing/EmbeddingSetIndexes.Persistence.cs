using System.Diagnostics;
using System.Globalization;
using Chroma.Server.Indexing.Internal;

namespace Chroma.Server.Indexing;

/// <summary>Loading at start (saved file + catch-up from the store, or a build from the store) and saving.</summary>
internal sealed partial class EmbeddingSetIndexes
{
    /// <summary>Saves every HNSW index changed since its last save; returns how many were written. Worker thread only.</summary>
    public int SaveChanged()
    {
        var saved = 0;
        foreach (var entry in _entries.Values)
        {
            if (entry.LoadedIndex?.Hnsw is not { } hnsw || entry.Version == entry.SavedVersion)
            {
                continue; // exact-search sets are re-read from the store at start, as fast as reading a file
            }

            try
            {
                if (hnsw.CompactIfMostlyDeleted())
                {
                    IndexingLog.Compacted(_logger, entry.Set.SetId, hnsw.Count);
                }

                Directory.CreateDirectory(IndexDirectory);
                var version = entry.Version;
                var header = new SetIndexHeader(entry.Set.SetId, entry.Set.Dimension, entry.IndexedThroughSequence, new(hnsw.Tags, StringComparer.Ordinal));
                var started = Stopwatch.GetTimestamp();
                SetIndexFile.Save(IndexPath(entry.Set.Key), header, hnsw.Graph);
                entry.SavedVersion = version;
                saved++;
                var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                IndexingLog.Saved(_logger, entry.Set.SetId, hnsw.Count, header.IndexedThroughSequence, elapsedMs);
            }
            catch (IOException ex)
            {
                // The next save retries; a restart without the file rebuilds from the store.
                IndexingLog.SaveFailed(_logger, entry.Set.SetId, ex);
            }
            catch (UnauthorizedAccessException ex)
            {
                IndexingLog.SaveFailed(_logger, entry.Set.SetId, ex);
            }
        }

        return saved;
    }

    private string IndexPath(long setKey) => Path.Combine(IndexDirectory, setKey.ToString(CultureInfo.InvariantCulture) + ".hnsw");

    private AdaptiveVectorIndex Load(SetIndexEntry entry)
    {
        var set = entry.Set;
        var started = Stopwatch.GetTimestamp();
        var loaded = TryLoadFile(entry);
        AdaptiveVectorIndex index;
        long highWater;
        if (loaded is var (graph, savedThrough))
        {
            index = new AdaptiveVectorIndex(graph);
            var added = 0;
            highWater = _store.ReadVectors(set, (sequence, vector, dataset) => { index.Add(sequence, vector, dataset); added++; }, savedThrough);

            // Deletions leave tombstones in the store: any saved record now deleted is one to remove.
            var removed = _store.ReadDeletedSequences(set, savedThrough).Count(index.Remove);
            entry.LoadReport = new IndexLoadReport(FromFile: true, added, removed);
            entry.SavedVersion = added + removed == 0 ? 0 : -1;
        }
        else
        {
            index = new AdaptiveVectorIndex(set.Dimension, _options.IndexExactSearchThreshold);
            var added = 0;
            highWater = _store.ReadVectors(set, (sequence, vector, dataset) => { index.Add(sequence, vector, dataset); added++; });
            entry.LoadReport = new IndexLoadReport(FromFile: false, added, 0);
        }

        entry.LoadedThroughSequence = highWater;
        entry.IndexedThroughSequence = highWater;
        var report = entry.LoadReport;
        var loadMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        IndexingLog.Loaded(_logger, set.SetId, report.FromFile, report.RecordsReadFromStore, report.DeletionsCaughtUp, loadMs);
        if (index.StartBuildIfLarge())
        {
            IndexingLog.BuildStarted(_logger, set.SetId, index.Count);
        }

        return index;
    }

    private (HnswVectorIndex Graph, long SavedThrough)? TryLoadFile(SetIndexEntry entry)
    {
        var path = IndexPath(entry.Set.Key);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var (header, graph) = SetIndexFile.Load(path);
            if (header.SetId != entry.Set.SetId || header.Dimension != entry.Set.Dimension || graph.Dimension != entry.Set.Dimension)
            {
                graph.Dispose();
                throw new InvalidDataException($"{path} belongs to set '{header.SetId}' of dimension {header.Dimension}.");
            }

            return (new HnswVectorIndex(graph, header.Datasets), header.IndexedThroughSequence);
        }
#pragma warning disable CA1031 // Whatever is wrong with the file, the store still has every record: rebuild, never fail.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            IndexingLog.FileUnusable(_logger, entry.Set.SetId, path, ex);
            return null;
        }
    }
}
