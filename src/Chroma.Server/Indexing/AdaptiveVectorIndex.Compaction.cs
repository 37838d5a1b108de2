using System.Diagnostics;
using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Indexing;

/// <summary>
/// Compaction: once most of the graph is tombstones (records deleted), it is rebuilt from its live vectors on the index
/// threads, a step at a time, while it goes on answering. Records read meanwhile are staged (searchable by a scan, as
/// during a burst) and linked into the rebuilt graph once it has taken over; deletions apply to both graphs.
/// </summary>
internal sealed partial class AdaptiveVectorIndex
{
    private Task _compaction = Task.CompletedTask;

    // Set at a compaction's hand-over, cleared once the tail is empty (StagesPastQuarter).
    private bool _drainingAfterCompaction;

    // Set when a compaction took over: the next StartEstimateIfStale estimates the rebuilt graph whatever its count.
    private bool _estimateDue;

    // The graph's tombstones when a compaction last failed: the next waits for that many more (-1: none failed).
    private int _deletedAtFailedCompaction = -1;

    /// <summary>Gets a task that completes when the running compaction (if any) has taken over or ended.</summary>
    public Task CompactionCompletion => Volatile.Read(ref _compaction);

    /// <summary>
    /// Gets whether a compaction runs: the graph links nothing meanwhile (<see cref="LinkPendingAsync"/> returns 0), so
    /// what the worker reads stays staged until the rebuilt graph takes over.
    /// </summary>
    public bool Compacting => !CompactionCompletion.IsCompleted;

    /// <summary>
    /// Gets whether the staged tail may grow to the most the settings allow (<c>MaxStagedFloats</c>) rather than to a
    /// quarter of the graph: while a compaction runs (nothing is linked meanwhile) and until what it left staged is
    /// linked. Held to a quarter of the graph, the tail of a million-record set that was mostly deleted filled to within
    /// 5% of its limit in the two minutes of the rebuild at 1,000 records/s; past it the set would be far behind.
    /// </summary>
    public bool StagesPastQuarter => Compacting || Volatile.Read(ref _drainingAfterCompaction);

    /// <summary>
    /// Starts a compaction on the index threads when tombstones outnumber the graph's live vectors
    /// (<see cref="HnswVectorIndex.MostlyDeleted"/>) and none runs. Until December 6 the compaction ran on the worker, one
    /// thread, before a save, with every writer held: at 690,000 live vectors of 128 floats (after a million deletions)
    /// the index took in nothing for five minutes, and every query waited its two seconds for it and answered
    /// <c>index_behind</c>. Returns whether one started.
    /// </summary>
    public bool StartCompactionIfDue()
    {
        if (Hnsw is not { } hnsw || Compacting || !hnsw.MostlyDeleted || hnsw.Graph.Rebuild is not null)
        {
            return false;
        }

        var failedAt = Volatile.Read(ref _deletedAtFailedCompaction);
        if (failedAt >= 0 && hnsw.Graph.DeletedCount < failedAt + Math.Max(1024, hnsw.Count / 8))
        {
            return false; // it failed at about this size: retried once an eighth more is deleted
        }

        var rebuild = hnsw.Graph.BeginRebuild();
        _settings.CompactionStarted?.Invoke(rebuild);
        Volatile.Write(ref _compaction, CompactAsync(hnsw, rebuild));
        return true;
    }

    private async Task CompactAsync(HnswVectorIndex hnsw, HnswRebuild rebuild)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            // A step at a time, so the other work of the index threads (another set's link batches, saves) runs between.
            var step = Math.Max(1, _settings.StepSize);
            for (var first = 0; first < rebuild.Count; first += step)
            {
                var from = first;
                await _settings.Threads.ForAsync(Math.Min(step, rebuild.Count - from), i => rebuild.Copy(from + i), _disposing.Token)
                    .ConfigureAwait(false);
                if (_settings.OnCompactionStep is { } onStep)
                {
                    await onStep(rebuild, _disposing.Token).ConfigureAwait(false);
                }
            }

            var result = await _settings.Threads.RunAsync(rebuild.Complete, _disposing.Token).ConfigureAwait(false);

            // The default breadth was picked on the old graph (often while it was being deleted): picked again on this one
            // at the worker's next turn, once an estimate of the old graph still running has ended (none starts meanwhile).
            await EstimateCompletion.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            Volatile.Write(ref _estimateDue, true);
            Volatile.Write(ref _drainingAfterCompaction, true);
            _settings.Compacted?.Invoke(result, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
        {
            rebuild.Abandon(); // shutting down: the saved graph keeps its tombstones, and the next start compacts
        }
#pragma warning disable CA1031 // A failed compaction leaves the index serving from its graph, tombstones and all; it is reported.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            rebuild.Abandon();
            Volatile.Write(ref _deletedAtFailedCompaction, hnsw.Graph.DeletedCount);
            _settings.CompactionFailed?.Invoke(ex);
        }
    }
}
