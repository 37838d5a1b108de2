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
            if (PrepareSave(entry) is { } save && Write(entry, save))
            {
                saved++;
            }
        }

        return saved;
    }

    /// <summary>
    /// Starts a save of every HNSW index changed since its last save and returns at once (the worker's periodic saves
    /// and the save after a build): what the file will hold is fixed here, on the worker, and the file is written on the
    /// index threads, which takes seconds for a large graph (1.5 s at a million 128-d vectors, at 50,000 of 1,536).
    /// Meanwhile the worker reads on and stages, so a query waiting for the latest records is not held up by the write;
    /// it links nothing into that graph until the write ends (<see cref="SetIndexEntry.SaveInFlight"/>). Worker only.
    /// </summary>
    /// <returns>How many saves were started.</returns>
    public int StartSaves()
    {
        var started = 0;
        foreach (var entry in _entries.Values)
        {
            if (PrepareSave(entry) is not { } save)
            {
                continue;
            }

            var write = _threads.RunAsync(() => Write(entry, save));
            entry.SaveInFlight = write;
            started++;

            // What was staged meanwhile waits to be linked: the worker's next turn links it.
            _ = WakeWhenWrittenAsync(entry, write);
        }

        return started;
    }

    /// <summary>Wakes <paramref name="entry"/> once its background write ended, however it ended (Write logs a failure).</summary>
    private async Task WakeWhenWrittenAsync(SetIndexEntry entry, Task write)
    {
        await write.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (!IsDisposed)
        {
            Wake(entry);
        }
    }

    /// <summary>
    /// Waits for every background save still writing and wakes its set (what it staged meanwhile waits to be linked);
    /// returns whether any was writing.
    /// </summary>
    private async Task<bool> AwaitSavesInFlightAsync()
    {
        var any = false;
        foreach (var entry in _entries.Values)
        {
            if (entry.SaveInFlight is { IsCompleted: false } write)
            {
                any = true;
                await write.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing); // its failure is Write's to log
                if (!IsDisposed)
                {
                    Wake(entry);
                }
            }
        }

        return any;
    }

    /// <summary>
    /// What a save of the set's graph will write, fixed now; null when there is nothing to save or a write of it still
    /// runs. Worker only.
    /// </summary>
    private PreparedSave? PrepareSave(SetIndexEntry entry)
    {
        if (entry.Saving)
        {
            return null; // the next save writes what changed meanwhile
        }

        entry.SaveRequested = false;
        if (entry.LoadedIndex is { } loaded)
        {
            ApplyHeldRemovals(entry, loaded); // the file holds every deletion read so far
        }

        var changed = entry.TakeGraphChanged(); // compacted or reconnected: the file holds the old graph, whatever its version says
        if (entry.LoadedIndex?.Hnsw is not { } hnsw || (entry.Version == entry.SavedVersion && !changed))
        {
            return null; // exact-search sets are re-read from the store at start, as fast as reading a file
        }

        // What is staged and not linked yet is not in the graph: the file reflects the store through the one before it.
        var index = entry.LoadedIndex!;
        var header = new SetIndexHeader(entry.Set.SetId, entry.Set.Dimension, index.LinkedThrough(entry.IndexedThroughSequence), new(hnsw.Tags, StringComparer.Ordinal))
        {
            Estimate = hnsw.Estimate,
            AddsSinceReconnect = hnsw.AddsSinceReconnect,
        };
        return new PreparedSave(hnsw, header, entry.Version, changed);
    }

    /// <summary>Gets or sets what runs on the writing thread just before a save writes its file (tests hold a write with it).</summary>
    internal Action? BeforeSaveWrite { get; set; }

    /// <summary>Writes a prepared save; false when it failed (logged: the next save retries).</summary>
    private bool Write(SetIndexEntry entry, PreparedSave save)
    {
        try
        {
            BeforeSaveWrite?.Invoke();
            Security.OwnerOnlyFiles.CreateDirectory(IndexDirectory);
            var started = Stopwatch.GetTimestamp();
            SetIndexFile.Save(IndexPath(entry.Set.Key), save.Header, save.Graph.Graph);
            entry.SavedVersion = save.Version;
            var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            IndexingLog.Saved(_logger, entry.Set.SetId, save.Graph.Count, save.Header.IndexedThroughSequence, elapsedMs);
            return true;
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

        // The next save retries what changed (its version is not marked saved), and a graph a compaction replaced (or a
        // reconnect changed) even when nothing changes meanwhile: else a restart would load the old file and compact again.
        if (save.GraphChanged)
        {
            entry.MarkGraphChanged();
        }

        return false;
    }

    private string IndexPath(long setKey) => Path.Combine(IndexDirectory, setKey.ToString(CultureInfo.InvariantCulture) + ".hnsw");

    /// <summary>Saves a checkpoint of an unfinished build of <paramref name="entry"/>'s graph (index threads only).</summary>
    private void SaveCheckpoint(SetIndexEntry entry, HnswVectorIndex graph)
    {
        try
        {
            Security.OwnerOnlyFiles.CreateDirectory(IndexDirectory);
            var header = new SetIndexHeader(entry.Set.SetId, entry.Set.Dimension, 0, new(graph.Tags, StringComparer.Ordinal)) { Partial = true };
            var started = Stopwatch.GetTimestamp();
            SetIndexFile.Save(IndexPath(entry.Set.Key), header, graph.Graph);
            var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            IndexingLog.CheckpointSaved(_logger, entry.Set.SetId, graph.Count, elapsedMs);
        }
        catch (IOException ex)
        {
            // The build goes on; the next checkpoint retries, and a restart without one builds from the start.
            IndexingLog.SaveFailed(_logger, entry.Set.SetId, ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            IndexingLog.SaveFailed(_logger, entry.Set.SetId, ex);
        }
    }

    private IndexBuildSettings BuildSettings(SetIndexEntry entry) => new()
    {
        Threads = _threads,
        StepSize = BuildStepSize,
        CheckpointInterval = _options.BuildCheckpointInterval,
        TimeProvider = _timeProvider,
        SaveCheckpoint = graph => SaveCheckpoint(entry, graph),
        TookOver = () =>
        {
            IndexingLog.BuildFinished(_logger, entry.Set.SetId, entry.LoadedIndex?.Count ?? 0, entry.LoadedIndex?.AdoptedVectors ?? 0);
            entry.DeferredSince = _timeProvider.GetTimestamp();
            entry.SaveRequested = true;
            Wake(entry);
        },
        BuildFailed = ex => IndexingLog.BuildFailed(_logger, entry.Set.SetId, ex),
        BuildRestarted = (deleted, total, fromCheckpoint) => IndexingLog.BuildRestarted(_logger, entry.Set.SetId, total - deleted, deleted, total, fromCheckpoint),
        CompactionStarted = rebuild => IndexingLog.CompactionStarted(_logger, entry.Set.SetId, rebuild.NodesAtStart - rebuild.Count, rebuild.NodesAtStart, rebuild.Count),
        Compacted = (result, elapsedMs) =>
        {
            IndexingLog.Compacted(_logger, entry.Set.SetId, result.Live, elapsedMs, result.TombstonesDropped, result.RemovedDuringRebuild, result.AddedDuringRebuild);

            // The old graph is garbage (at a million nodes of 128 floats, about a gigabyte): give it back, then save the
            // rebuilt graph and link what was staged meanwhile.
            var (before, after, heap, committed, elapsed) = FreedMemory.ReturnToOperatingSystem();
            IndexingLog.CompactionMemoryReturned(_logger, entry.Set.SetId, before, after, heap, committed, elapsed.TotalMilliseconds);
            entry.MarkGraphChanged();
            entry.SaveRequested = true;
            Wake(entry);
        },
        CompactionFailed = ex => IndexingLog.CompactionFailed(_logger, entry.Set.SetId, ex),
        Reconnected = result =>
        {
            if (result.Linked > 0)
            {
                // The graph changed without a change of the store: the next save writes it (before, the nodes linked in a
                // graph read from a file were linked again after every start, as nothing else had changed).
                entry.MarkGraphChanged();
            }

            if (result.Linked + result.Unreachable > 0)
            {
                IndexingLog.Reconnected(_logger, entry.Set.SetId, result.Linked, result.Unreachable, result.ElapsedMs);
            }
            else
            {
                IndexingLog.EveryNodeReachable(_logger, entry.Set.SetId, result.ElapsedMs);
            }
        },
        ReturnFreedMemory = () =>
        {
            var (before, after, heap, committed, elapsed) = FreedMemory.ReturnToOperatingSystem();
            IndexingLog.FreedMemoryReturned(_logger, entry.Set.SetId, before, after, heap, committed, elapsed.TotalMilliseconds);
        },
        OnStep = BuildStepObserver,
        OnCompactionStep = CompactionStepObserver,
    };

    private AdaptiveVectorIndex Load(SetIndexEntry entry)
    {
        var set = entry.Set;
        var started = Stopwatch.GetTimestamp();
        entry.DeferredSince = _timeProvider.GetTimestamp();
        var loaded = TryLoadFile(entry);
        AdaptiveVectorIndex index;
        long highWater;
        if (loaded is ({ } graph, var savedThrough, false))
        {
            index = new AdaptiveVectorIndex(graph, BuildSettings(entry));

            // Deletions leave tombstones in the store: any saved record now deleted is one to remove.
            var removed = _store.ReadDeletedSequences(set, savedThrough).Count(index.Remove);

            // The records committed after the save (a crash, or a stop before the next save) are staged as the worker
            // stages what it reads: searchable at once by a scan and linked into the graph behind, by the worker. Linked
            // here, one by one before the index answered, 32,000 of them at a million records kept every query waiting
            // for 50 s after a crash (outside-in probe 7). Past the staging limit the worker reads on from the cursor,
            // and the index is behind meanwhile, as under a burst.
            var added = 0;
            highWater = savedThrough;
            var limit = PendingLimit(index);
            while (index.PendingCount < limit)
            {
                var changes = Admitted(set, _store.ReadChanges(set, highWater, PageRows(set.Dimension)));
                if (changes.Through <= highWater)
                {
                    break;
                }

                Stage(index, changes, removeDeleted: true);
                added += changes.Sequences.Length;
                highWater = changes.Through;
                if (!changes.HasMore)
                {
                    break;
                }
            }

            entry.LoadReport = new IndexLoadReport(FromFile: true, added, removed);
            entry.SavedVersion = added + removed == 0 ? 0 : -1;
        }
        else
        {
            // No file, or the checkpoint of an unfinished build: exact search over the store's records answers
            // while the build starts (or continues from the checkpoint) in the background.
            var checkpoint = loaded?.Graph;
            index = new AdaptiveVectorIndex(set.Dimension, _options.ExactSearchThreshold, BuildSettings(entry), checkpoint, IndexMetric.Of(set));
            var added = 0;
            List<(long Sequence, string Problem)>? skipped = null;
            highWater = _store.ReadVectors(set, (sequence, vector, dataset) =>
            {
                if (Admits(set, sequence, vector, ref skipped))
                {
                    index.Add(sequence, vector, dataset);
                    added++;
                }
            });
            LogSkipped(set, skipped);
            entry.LoadReport = new IndexLoadReport(FromFile: false, added, 0) { CheckpointVectors = checkpoint?.Count ?? 0 };
        }

        // The cursor: later changes are read from the store by the worker (ReadChanges after this sequence).
        entry.MarkIndexedThrough(highWater);
        var report = entry.LoadReport;
        var loadMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        IndexingLog.Loaded(_logger, set.SetId, report.FromFile, report.RecordsReadFromStore, report.DeletionsCaughtUp, loadMs);
        if (index.StartBuildIfLarge())
        {
            IndexingLog.BuildStarted(_logger, set.SetId, index.Count, report.CheckpointVectors);
        }

        // A graph saved mostly deleted (deletions caught up from the store, or a stop during its compaction) is compacted
        // now, in the background.
        index.StartCompactionIfDue();

        // A graph loaded with an estimate to be taken again (an older scheme, after an upgrade) searches with its saved
        // breadth meanwhile: the estimate's scans of every vector (tens of CPU-seconds at 1,444,000 records) wait, as
        // the save and the check do, for a quiet API, so a restarted server answers its first queries at speed.
        var mayRunDeferred = MayRunDeferred(entry);
        index.StartEstimateIfStale(onlyWithout: !mayRunDeferred);
        index.StartReconnectIfDue(deferLoadedCheck: !mayRunDeferred);
        if (index.PendingCount > 0 || !TryReadLastSequence(set, out var committed) || entry.IndexedThroughSequence < committed)
        {
            // Staged records to link, or more to read (or the store did not say: the worker reads, and logs why it cannot):
            // the worker goes on once the load is published.
            Wake(entry);
        }

        return index;
    }

    private (HnswVectorIndex Graph, long SavedThrough, bool Partial)? TryLoadFile(SetIndexEntry entry)
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

            if (graph.Options.Metric != IndexMetric.Of(entry.Set))
            {
                graph.Dispose();
                throw new InvalidDataException($"{path} ranks by {graph.Options.Metric}, but set '{entry.Set.SetId}' has metric {IndexMetric.Of(entry.Set)}.");
            }

            // A file saved past the store's end was written against other data (a database restored from an older copy,
            // or a new one, with the index folder kept): its nodes name sequences the store has not reached, which later
            // records then take, and the catch-up would start after them.
            if (!header.Partial && TryReadLastSequence(entry.Set, out var committed) && header.IndexedThroughSequence > committed)
            {
                graph.Dispose();
                throw new InvalidDataException(
                    $"{path} reflects set '{entry.Set.SetId}' through sequence {header.IndexedThroughSequence}, but the store's last sequence of the set is {committed} (a database restored from an older copy?).");
            }

            var index = new HnswVectorIndex(graph, header.Datasets) { Estimate = header.Estimate, AddsSinceReconnect = header.AddsSinceReconnect };
            return (index, header.IndexedThroughSequence, header.Partial);
        }
#pragma warning disable CA1031 // Whatever is wrong with the file, the store still has every record: rebuild, never fail.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            IndexingLog.FileUnusable(_logger, entry.Set.SetId, path, ex);
            return null;
        }
    }

    /// <summary>A save fixed on the worker: the graph, the header the file gets, and the entry's version it reflects.</summary>
    private sealed record PreparedSave(HnswVectorIndex Graph, SetIndexHeader Header, long Version, bool GraphChanged);
}
