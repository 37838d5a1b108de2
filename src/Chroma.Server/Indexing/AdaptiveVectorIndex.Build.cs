using System.Diagnostics;
using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Indexing.Internal;

namespace Chroma.Server.Indexing;

/// <summary>The background build: steps on the index threads, checkpoints between them, then the take-over.</summary>
internal sealed partial class AdaptiveVectorIndex
{
    /// <summary>
    /// Starts the background HNSW build when the set has reached the threshold (or a checkpoint waits to be
    /// resumed) and none runs yet. Called after each applied batch rather than per record, so a bulk load
    /// snapshots once.
    /// </summary>
    /// <returns>Whether a build was started.</returns>
    public bool StartBuildIfLarge() => StartBuild() is not null;

    /// <summary>Starts the build <see cref="StartBuildIfLarge"/> describes and returns it; null when none started.</summary>
    private Task? StartBuild()
    {
        _gate.EnterWriteLock();
        try
        {
            if (_hnsw is not null || _changesDuringBuild is not null || _exact!.Count == 0
                || (_exact.Count < _threshold && _resumeFrom is null))
            {
                return null;
            }

            var snapshot = _exact.Snapshot();
            var graph = _resumeFrom ?? new HnswVectorIndex(Dimension, Metric);
            _resumeFrom = null;
            _changesDuringBuild = new BuildChangeLog();
            Volatile.Write(ref _progress, null);
            var build = BuildAsync(snapshot, graph);
            Volatile.Write(ref _build, build);
            return build;
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    private async Task BuildAsync(VectorSnapshot snapshot, HnswVectorIndex graph)
    {
        // The lambdas below read the snapshot through this local, which the take-over clears. Were they to capture the
        // parameter, the compiler would keep a second reference to it in the method's async state until the method
        // ends, and the snapshot's vectors (the exact index's) would outlive the collection that is to return them.
        var input = snapshot;
        snapshot = null!;

        // Off the caller's thread (the worker's), so StartBuildIfLarge returns at once.
        await Task.Yield();
        var threads = _settings.Threads;
        var token = _disposing.Token;
        var garbageRows = 0;
        BuildRun? run = null;
        Task? restarted = null;
        try
        {
            var pending = await threads.RunAsync(() => Reconcile(input, graph), token).ConfigureAwait(false);
            if (graph.MostlyDeleted)
            {
                // A checkpoint of a graph whose records were mostly deleted since (retention after a restart): linking the
                // rest and compacting after would cost more than linking the live records into an empty graph.
                var (deleted, nodes) = (graph.Graph.DeletedCount, graph.Graph.NodeCount);
                graph.Dispose();
                graph = new HnswVectorIndex(Dimension, Metric);
                pending = await threads.RunAsync(() => Reconcile(input, graph), token).ConfigureAwait(false);
                _settings.BuildRestarted?.Invoke(deleted, nodes, true);
            }

            ResumedVectors = input.Sequences.Length - pending.Length;

            // A new graph over rows in store order uses the snapshot's slabs (4,096 rows each, from row 8,192 on) as its
            // vectors instead of holding them a second time while it builds: node i is row i, so each step reserves its
            // in-order rows one by one before linking them in parallel. The rest are copied as usual.
            var (inOrder, adopted) = ResumedVectors == 0 && InStoreOrder(pending) ? graph.AdoptVectors(input) : (0, 0);
            AdoptedVectors = adopted;
            run = new BuildRun(this, graph, ResumedVectors, input.Sequences.Length);
            await run.InsertAsync(
                pending.Length,
                i =>
                {
                    if (i < inOrder)
                    {
                        graph.LinkAdopted(i, input.Row(i));
                        return;
                    }

                    var row = pending[i];
                    graph.Add(input.Sequences[row], input.Row(row), input.Datasets[row]);
                },
                token,
                inOrder == 0 ? null : (from, count) =>
                {
                    for (var row = from; row < Math.Min(from + count, inOrder); row++)
                    {
                        graph.ReserveAdopted(input.Sequences[row], row, input.Datasets[row]);
                    }
                }).ConfigureAwait(false);

            // Records that arrived during the build (a bulk load outruns it): applied in parallel steps outside the
            // gate while there are many, so the take-over below replays only a few under it.
            // When the graph started empty, nodes follow the exact index's rows while nothing is removed, so whole slabs
            // of rows that arrived meanwhile are read in place too (TakeChangesIfMany).
            var adoptChanges = ResumedVectors == 0;
            while (TakeChangesIfMany(graph, adoptChanges) is { } share)
            {
                if (share.Adopted is { } rows)
                {
                    await run.ApplyAdoptedAsync(rows, token).ConfigureAwait(false);
                    AdoptedVectors += rows.Count;
                }
                else
                {
                    await run.ApplyAsync(share.Copied!, token).ConfigureAwait(false);
                }
            }

            // Parallel inserts of nearby vectors can leave a node no search reaches: linked in before anyone searches.
            var reconnected = await threads.RunAsync(graph.Reconnect, token).ConfigureAwait(false);
            _settings.Reconnected?.Invoke(reconnected);

            // Estimated before the take-over, so the graph answers with its adapted breadth from its first search.
            graph.Estimate = await RecallEstimator.EstimateAsync(
                graph.Graph, threads, _settings.RecallSampleSize, _settings.RecallSeed, token).ConfigureAwait(false);
            // The exact index (which grew on while the build ran) and the snapshot are garbage after the take-over.
            garbageRows = await threads.RunAsync(() => TakeOver(graph), CancellationToken.None).ConfigureAwait(false);
            _settings.TookOver?.Invoke();
            input = null!;
        }
        catch (OperationCanceledException) when (run?.MostlyDeleted is { } outdated && !_disposing.IsCancellationRequested)
        {
            // Most of what this build links was deleted under it (probe U, U8: retention deleted 1.09 M of 1.25 M records a
            // minute into a first build, which then linked the deleted vectors for ten minutes on both cores before a
            // compaction rebuilt the 160,000 live ones in 34 s). Dropped, and built again from the live records at once.
            _gate.EnterWriteLock();
            try
            {
                _changesDuringBuild = null;
                Volatile.Write(ref _progress, null);
            }
            finally
            {
                _gate.ExitWriteLock();
            }

            graph.Dispose();
            input = null!;
            _settings.BuildRestarted?.Invoke(outdated.Deleted, outdated.Total, false);
            restarted = StartBuild();
        }
        catch (Exception ex)
        {
            _gate.EnterWriteLock();
            try
            {
                _changesDuringBuild = null;
                if (_disposing.IsCancellationRequested)
                {
                    graph.Dispose();
                }
                else
                {
                    // Keep what was built: the next attempt (after the set's next change) continues from it.
                    _resumeFrom = graph;
                }
            }
            finally
            {
                _gate.ExitWriteLock();
            }

            if (ex is not OperationCanceledException || !_disposing.IsCancellationRequested)
            {
                // ListSets says so too (probe U, U6: an out-of-memory build showed only as EXACT, the log alone said why).
                Volatile.Write(
                    ref _lastBuildFailure,
                    new IndexBuildFailure($"{ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}", _settings.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds()));
                _settings.BuildFailed?.Invoke(ex);
                throw;
            }
        }

        if (restarted is not null)
        {
            // Whoever awaits this build's completion awaits the one that replaced it.
            await restarted.ConfigureAwait(false);
            return;
        }

        // For a large set that garbage is hundreds of MiB, which the collector would keep committed after freeing it:
        // hand it back (FreedMemory). Outside the try: the graph has taken over, whatever this does.
        if (garbageRows > 0 && (long)garbageRows * Dimension >= _settings.ReturnFreedMemoryFromFloats)
        {
            _settings.ReturnFreedMemory();
        }
    }

    /// <summary>Changes the take-over may replay under the write lock (searches wait meanwhile): a few milliseconds' worth.</summary>
    private const int ReplayUnderLockMaximum = 256;

    /// <summary>
    /// Floats of vectors one share of the changes logged during the build copies out of the exact index under the write
    /// lock (16 MiB, a few milliseconds): 32,768 rows of 128 floats, 2,730 of 1,536.
    /// </summary>
    private const int TakeMaximumFloats = 4 * 1024 * 1024;

    /// <summary>
    /// The oldest changes logged during the build when more than <see cref="ReplayUnderLockMaximum"/> wait; null
    /// otherwise. With <paramref name="adopt"/>, while the graph's nodes follow the exact index's rows (no removal
    /// logged), whole slabs of added rows are adopted by <paramref name="graph"/> in place (a build step's worth at
    /// most), and a copied share stops at the next slab's first row so that the one after it can be; otherwise the
    /// vectors are copied (<see cref="TakeMaximumFloats"/> at most).
    /// </summary>
    private BuildShare? TakeChangesIfMany(HnswVectorIndex graph, bool adopt)
    {
        _gate.EnterWriteLock();
        try
        {
            var log = _changesDuringBuild!;
            if (log.Count <= ReplayUnderLockMaximum)
            {
                return null;
            }

            if (!adopt || log.RemovalLogged)
            {
                return new BuildShare(log.Take(_exact!, TakeMaximumFloats), null);
            }

            var next = graph.Graph.NodeCount;
            var slabStart = Math.Max(VectorBlocks.SlabsFrom, (next + VectorBlocks.SlabRows - 1) / VectorBlocks.SlabRows * VectorBlocks.SlabRows);
            if (next == slabStart && log.TakeAdoptable(_exact!, next, Math.Max(1, _settings.StepSize / VectorBlocks.SlabRows), graph.AdoptMoreVectors) is { } rows)
            {
                return new BuildShare(null, rows);
            }

            return new BuildShare(log.Take(_exact!, TakeMaximumFloats, next < slabStart ? slabStart - next : int.MaxValue), null);
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    /// <summary>A share of the changes logged during a build: copied, or rows whose slabs the graph adopted.</summary>
    private sealed record BuildShare(VectorBatch? Copied, AdoptedRows? Adopted);

    /// <summary>
    /// Makes a resumed graph agree with the snapshot (records deleted since its checkpoint are removed) and
    /// returns the snapshot rows still to insert, in store order.
    /// </summary>
    private static int[] Reconcile(VectorSnapshot snapshot, HnswVectorIndex graph)
    {
        if (graph.Count > 0)
        {
            var live = new HashSet<long>(snapshot.Sequences);
            foreach (var key in graph.Graph.LiveKeys())
            {
                if (!live.Contains(key))
                {
                    graph.Remove(key);
                }
            }
        }

        var rows = new List<int>(snapshot.Sequences.Length);
        for (var row = 0; row < snapshot.Sequences.Length; row++)
        {
            if (graph.Count == 0 || !graph.Graph.Contains(snapshot.Sequences[row]))
            {
                rows.Add(row);
            }
        }

        rows.Sort((a, b) => snapshot.Sequences[a].CompareTo(snapshot.Sequences[b]));
        return [.. rows];
    }

    /// <summary>Whether the rows to insert are every snapshot row in its own order (pending[i] == i).</summary>
    private static bool InStoreOrder(int[] pending)
    {
        for (var i = 0; i < pending.Length; i++)
        {
            if (pending[i] != i)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// How many of the vectors a build over <paramref name="snapshotRows"/> rows (and the additions logged since) would
    /// hold were deleted, and that total, when the graph would be <see cref="HnswVectorIndex.MostlyDeleted"/> at its
    /// take-over (and so compacted after it); null otherwise.
    /// </summary>
    private (int Deleted, int Total)? DeletedUnderBuild(int snapshotRows)
    {
        _gate.EnterReadLock();
        try
        {
            var total = snapshotRows + _changesDuringBuild!.AddedTotal;
            var live = _exact!.Count;
            var deleted = total - live;
            return HnswVectorIndex.IsMostlyDeleted(deleted, live) ? (deleted, total) : null;
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }

    /// <summary>Replays the changes logged during the build and lets the graph answer; returns the rows the dropped exact index held.</summary>
    private int TakeOver(HnswVectorIndex built)
    {
        _gate.EnterWriteLock();
        try
        {
            // Writers wait here only for the replay of what changed during the build, not the build itself.
            _changesDuringBuild!.ReplayOnto(built, _exact!);
            _changesDuringBuild = null;
            var dropped = _exact!.Count;
            _exact = null;
            Volatile.Write(ref _hnsw, built);
            return dropped;
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }
}
