using System.Diagnostics;
using Chroma.Server.Indexing.Internal;

namespace Chroma.Server.Indexing;

/// <summary>The stepping of one background build: parallel steps, the step hook, checkpoints between steps.</summary>
internal sealed partial class AdaptiveVectorIndex
{
    private sealed class BuildRun(AdaptiveVectorIndex owner, HnswVectorIndex graph, int indexed, int total)
    {
        private long _lastCheckpoint = owner._settings.TimeProvider.GetTimestamp();
        private TimeSpan _checkpointCost;
        private readonly int _snapshotRows = total;
        private int _indexed = indexed;
        private int _total = total;

        /// <summary>
        /// Gets the deleted and total vectors when the run stopped because most of what it links was deleted under it
        /// (it then throws <see cref="OperationCanceledException"/>); null otherwise.
        /// </summary>
        public (int Deleted, int Total)? MostlyDeleted { get; private set; }

        /// <summary>
        /// Runs <paramref name="insert"/> for 0..count-1 in steps on the index threads, each step after
        /// <paramref name="beforeStep"/> (first index, count) if given, on one of them.
        /// </summary>
        public async Task InsertAsync(int count, Action<int> insert, CancellationToken cancellationToken, Action<int, int>? beforeStep = null)
        {
            for (var done = 0; done < count;)
            {
                var from = done;
                var step = Math.Min(owner._settings.StepSize, count - done);
                if (beforeStep is not null)
                {
                    await owner._settings.Threads.RunAsync(() => beforeStep(from, step), cancellationToken).ConfigureAwait(false);
                }

                await owner._settings.Threads.ForAsync(step, i => insert(from + i), cancellationToken).ConfigureAwait(false);
                done += step;
                await StepDoneAsync(step, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>Applies logged changes in order: runs of inserts in parallel steps, deletions one by one.</summary>
        public async Task ApplyAsync(VectorBatch changes, CancellationToken cancellationToken)
        {
            _total += changes.Count;
            for (var start = 0; start < changes.Count;)
            {
                if (changes.IsRemoval(start))
                {
                    graph.Remove(changes.Sequence(start));
                    start++;
                    _indexed++;
                    continue;
                }

                // Sequences are never reused, so the inserts of one run touch distinct records.
                var end = start;
                while (end < changes.Count && !changes.IsRemoval(end))
                {
                    end++;
                }

                var from = start;
                await InsertAsync(end - start, i => graph.Add(changes.Sequence(from + i), changes.Vector(from + i), changes.Dataset(from + i)), cancellationToken)
                    .ConfigureAwait(false);
                start = end;
            }
        }

        /// <summary>
        /// Inserts rows whose slabs the graph adopted (<see cref="HnswVectorIndex.AdoptMoreVectors"/>): each step reserves
        /// its rows in order, then links them in parallel, reading the vectors in place.
        /// </summary>
        public async Task ApplyAdoptedAsync(AdoptedRows rows, CancellationToken cancellationToken)
        {
            _total += rows.Count;
            await InsertAsync(
                rows.Count,
                i => graph.LinkAdopted(rows.FirstRow + i, default),
                cancellationToken,
                (from, count) =>
                {
                    for (var i = from; i < from + count; i++)
                    {
                        graph.ReserveAdopted(rows.Sequences[i], rows.FirstRow + i, rows.Datasets[i]);
                    }
                }).ConfigureAwait(false);
        }

        private async Task StepDoneAsync(int step, CancellationToken cancellationToken)
        {
            _indexed += step;
            var settings = owner._settings;
            var progress = new IndexBuildStep(_indexed, _total);
            Volatile.Write(ref owner._progress, progress);
            if (settings.OnStep is { } onStep)
            {
                await onStep(progress, cancellationToken).ConfigureAwait(false);
            }

            // Checked between steps (a few seconds each at a million), before a checkpoint of a graph about to be dropped.
            if (owner.DeletedUnderBuild(_snapshotRows) is { } deleted)
            {
                MostlyDeleted = deleted;
                throw new OperationCanceledException("Most of the vectors the build links were deleted under it; it starts again from the live ones.");
            }

            // A checkpoint never costs more than about a tenth of the build: a slow save stretches the interval. Any step
            // may be followed by more: during a bulk load the records that arrive are applied in shares of about one
            // step each, so a checkpoint only between the steps of one call never came, and a crash lost the whole build.
            var interval = TimeSpan.FromTicks(Math.Max(settings.CheckpointInterval.Ticks, _checkpointCost.Ticks * 10));
            var save = settings.SaveCheckpoint;
            if (save is not null && (progress.Checkpoint || settings.TimeProvider.GetElapsedTime(_lastCheckpoint) >= interval))
            {
                var started = Stopwatch.GetTimestamp();
                await settings.Threads.RunAsync(() => save(graph), cancellationToken).ConfigureAwait(false);
                _checkpointCost = Stopwatch.GetElapsedTime(started);
                _lastCheckpoint = settings.TimeProvider.GetTimestamp();
                owner.CheckpointsSaved++;
            }
        }
    }
}
