using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Indexing.Internal;

/// <summary>How an <see cref="AdaptiveVectorIndex"/> builds its graph in the background, and whom it tells.</summary>
internal sealed record IndexBuildSettings
{
    /// <summary>Gets the threads that build, estimate and save (shared by every set).</summary>
    public required IndexBuildThreads Threads { get; init; }

    /// <summary>Gets how many vectors one build step inserts; checkpoints fall between steps. The default value is 8 192.</summary>
    public int StepSize { get; init; } = 8_192;

    /// <summary>Gets the least time between two checkpoints of a running build. The default value is 30 seconds.</summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets the clock the checkpoint interval is measured on.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Gets the sample size of a recall estimate. The default value is 200.</summary>
    public int RecallSampleSize { get; init; } = RecallEstimator.DefaultSampleSize;

    /// <summary>Gets the seed of the recall sample (estimates are reproducible for a given graph). The default value is 17.</summary>
    public int RecallSeed { get; init; } = 17;

    /// <summary>Gets what saves a checkpoint of a graph under construction (runs on the index threads); null saves none.</summary>
    public Action<HnswVectorIndex>? SaveCheckpoint { get; init; }

    /// <summary>Gets what runs once a built graph has taken over searches (e.g. ask for a save).</summary>
    public Action? TookOver { get; init; }

    /// <summary>
    /// Gets the size, in floats (rows times the dimension), of the exact index a take-over drops (the snapshot's rows and
    /// those added during the build) from which the take-over is followed by <see cref="ReturnFreedMemory"/>. Measured in
    /// floats, not rows, so wide vectors count for what they hold: 50,000 rows of 1,536 floats are 293 MiB, more than
    /// 100,000 of 128. The default value is 12 800 000 (100,000 rows of 128 floats, 49 MiB of vectors).
    /// </summary>
    public long ReturnFreedMemoryFromFloats { get; init; } = 100_000L * 128;

    /// <summary>
    /// Gets what runs after a build has taken over from an exact index of at least <see cref="ReturnFreedMemoryFromFloats"/>
    /// floats, when that index and the build's snapshot are garbage: by default <see cref="FreedMemory.ReturnToOperatingSystem"/>.
    /// </summary>
    public Action ReturnFreedMemory { get; init; } = () => FreedMemory.ReturnToOperatingSystem();

    /// <summary>
    /// Gets what hears of a pass that linked in graph nodes no search could reach (see <see cref="HnswVectorIndex.Reconnect"/>):
    /// nodes linked, nodes left unreachable, milliseconds. Runs after every pass, also one that found nothing to link.
    /// </summary>
    public Action<ReconnectResult>? Reconnected { get; init; }

    /// <summary>
    /// Gets what hears of a build abandoned because most of what it was linking had been deleted meanwhile (or since
    /// its checkpoint): vectors deleted, vectors the graph would have held, and whether it was the checkpoint that was
    /// dropped. A build from the live vectors follows at once.
    /// </summary>
    public Action<int, int, bool>? BuildRestarted { get; init; }

    /// <summary>Gets what hears of a build that failed (exact search keeps answering; the next change retries).</summary>
    public Action<Exception>? BuildFailed { get; init; }

    /// <summary>Gets what hears that a rebuild of a graph without its tombstones began (see <see cref="AdaptiveVectorIndex.StartCompactionIfDue"/>).</summary>
    public Action<HnswRebuild>? CompactionStarted { get; init; }

    /// <summary>Gets what hears that a rebuild without tombstones took over, with what it did and its milliseconds.</summary>
    public Action<HnswRebuildResult, double>? Compacted { get; init; }

    /// <summary>Gets what hears of a rebuild without tombstones that failed (the graph keeps its tombstones; the worker retries later).</summary>
    public Action<Exception>? CompactionFailed { get; init; }

    /// <summary>Gets a hook awaited after every step of a rebuild without tombstones (tests hold a rebuild with it).</summary>
    public Func<HnswRebuild, CancellationToken, ValueTask>? OnCompactionStep { get; init; }

    /// <summary>
    /// Gets a hook awaited after every build step, before the checkpoint decision (tests drive builds with it and
    /// may ask for a checkpoint by setting <see cref="IndexBuildStep.Checkpoint"/>).
    /// </summary>
    public Func<IndexBuildStep, CancellationToken, ValueTask>? OnStep { get; init; }
}

/// <summary>Where a background build stands after one step.</summary>
/// <param name="Indexed">Vectors in the graph so far (those resumed from a checkpoint included).</param>
/// <param name="Total">Vectors the build will hold when done.</param>
internal sealed record IndexBuildStep(int Indexed, int Total)
{
    /// <summary>Gets or sets whether a checkpoint is saved after this step even if the interval has not passed.</summary>
    public bool Checkpoint { get; set; }
}
