namespace Chroma.Server.Indexing.Internal;

/// <summary>Log messages of the per-set indexes and their worker.</summary>
internal static partial class IndexingLog
{
    [LoggerMessage(EventId = 400, Level = LogLevel.Information,
        Message = "Index of '{SetId}' ready: from file {FromFile}, {Records} records read from the store, {Deletions} deletions caught up, {ElapsedMs:F0} ms")]
    public static partial void Loaded(ILogger logger, string setId, bool fromFile, int records, int deletions, double elapsedMs);

    [LoggerMessage(EventId = 401, Level = LogLevel.Warning,
        Message = "Index file of '{SetId}' at {Path} is unusable; rebuilding the index from the store")]
    public static partial void FileUnusable(ILogger logger, string setId, string path, Exception exception);

    [LoggerMessage(EventId = 402, Level = LogLevel.Information,
        Message = "Building the HNSW index of '{SetId}' in the background ({Count} vectors, {Resumed} of them from a checkpoint); exact search answers meanwhile")]
    public static partial void BuildStarted(ILogger logger, string setId, int count, int resumed);

    [LoggerMessage(EventId = 403, Level = LogLevel.Debug,
        Message = "Saved the index of '{SetId}': {Count} vectors through sequence {Sequence} in {ElapsedMs:F0} ms")]
    public static partial void Saved(ILogger logger, string setId, int count, long sequence, double elapsedMs);

    [LoggerMessage(EventId = 404, Level = LogLevel.Warning, Message = "Could not save the index of '{SetId}'; the next save retries")]
    public static partial void SaveFailed(ILogger logger, string setId, Exception exception);

    [LoggerMessage(EventId = 405, Level = LogLevel.Error, Message = "Could not read or apply the changes of '{SetId}' from the store; its next wake-up or poll tries again")]
    public static partial void ApplyFailed(ILogger logger, string setId, Exception exception);

    [LoggerMessage(EventId = 406, Level = LogLevel.Warning,
        Message = "Index of '{SetId}' still {Behind} sequences behind the store after {Timeout}; answering from what is indexed")]
    public static partial void CatchUpTimedOut(ILogger logger, string setId, long behind, TimeSpan timeout);

    [LoggerMessage(EventId = 407, Level = LogLevel.Information,
        Message = "Compacted the index of '{SetId}' to {Count} vectors in {ElapsedMs:F0} ms: {Dropped} deleted ones dropped; {RemovedMeanwhile} deleted and {AddedMeanwhile} added meanwhile, applied at the hand-over; records read meanwhile were staged and are linked now")]
    public static partial void Compacted(ILogger logger, string setId, int count, double elapsedMs, int dropped, int removedMeanwhile, int addedMeanwhile);

    [LoggerMessage(EventId = 419, Level = LogLevel.Information,
        Message = "Compacting the index of '{SetId}': most of its graph is deleted records ({Deleted} of {Nodes}); rebuilding it from its {Live} live vectors in the background. Searches use the current graph meanwhile, and records read meanwhile are staged (searchable) and linked once it is done")]
    public static partial void CompactionStarted(ILogger logger, string setId, int deleted, int nodes, int live);

    [LoggerMessage(EventId = 421, Level = LogLevel.Information,
        Message = "The old graph of '{SetId}' is garbage after its compaction; resident memory {BeforeMiB:F0} -> {AfterMiB:F0} MiB after a blocking collection that returns freed memory to the system ({ElapsedMs:F0} ms; managed heap {HeapMiB:F0} MiB, {CommittedMiB:F0} MiB committed)")]
    public static partial void CompactionMemoryReturned(ILogger logger, string setId, double beforeMiB, double afterMiB, double heapMiB, double committedMiB, double elapsedMs);

    [LoggerMessage(EventId = 422, Level = LogLevel.Debug,
        Message = "Removed {Count} records of '{SetId}' from its graph, deleted while the graph's file was written (left out of searches meanwhile)")]
    public static partial void HeldRemovalsApplied(ILogger logger, string setId, int count);

    [LoggerMessage(EventId = 420, Level = LogLevel.Error,
        Message = "Could not compact the index of '{SetId}'; it keeps serving from its graph with the deleted records' tombstones, and tries again once an eighth more is deleted")]
    public static partial void CompactionFailed(ILogger logger, string setId, Exception exception);

    [LoggerMessage(EventId = 408, Level = LogLevel.Error, Message = "Could not load the indexes at start; they load on first use")]
    public static partial void StartLoadFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 409, Level = LogLevel.Error,
        Message = "Could not load the index of '{SetId}' from the store; its next change or query tries again")]
    public static partial void LoadFailed(ILogger logger, string setId, Exception exception);

    [LoggerMessage(EventId = 410, Level = LogLevel.Debug,
        Message = "Saved a checkpoint of the unfinished HNSW build of '{SetId}': {Count} vectors in {ElapsedMs:F0} ms")]
    public static partial void CheckpointSaved(ILogger logger, string setId, int count, double elapsedMs);

    [LoggerMessage(EventId = 411, Level = LogLevel.Information,
        Message = "The HNSW index of '{SetId}' is built and answers searches ({Count} vectors, {Adopted} of them kept where the exact index held them instead of copied)")]
    public static partial void BuildFinished(ILogger logger, string setId, int count, int adopted);

    [LoggerMessage(EventId = 412, Level = LogLevel.Error,
        Message = "The HNSW build of '{SetId}' failed; exact search keeps answering and the set's next change retries from what was built")]
    public static partial void BuildFailed(ILogger logger, string setId, Exception exception);

    [LoggerMessage(EventId = 413, Level = LogLevel.Warning,
        Message = "Could not read the committed sequence of '{SetId}' from the store; the query does not wait for the index to take in recent commits and answers from what is indexed, with index_behind set")]
    public static partial void TargetUnreadable(ILogger logger, string setId, Exception exception);

    [LoggerMessage(EventId = 414, Level = LogLevel.Warning, Message = "Could not poll the store for changes; the next poll tries again")]
    public static partial void PollFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 415, Level = LogLevel.Information,
        Message = "The HNSW build of '{SetId}' took over: its exact index and snapshot are garbage; resident memory {BeforeMiB:F0} -> {AfterMiB:F0} MiB after a blocking collection that returns freed memory to the system ({ElapsedMs:F0} ms; managed heap {HeapMiB:F0} MiB, {CommittedMiB:F0} MiB committed)")]
    public static partial void FreedMemoryReturned(ILogger logger, string setId, double beforeMiB, double afterMiB, double heapMiB, double committedMiB, double elapsedMs);

    [LoggerMessage(EventId = 416, Level = LogLevel.Information,
        Message = "Linked {Linked} nodes of the HNSW index of '{SetId}' that no search reached into the graph ({Unreachable} left unreachable; {ElapsedMs:F0} ms)")]
    public static partial void Reconnected(ILogger logger, string setId, int linked, int unreachable, double elapsedMs);

    [LoggerMessage(EventId = 417, Level = LogLevel.Debug,
        Message = "Checked the HNSW index of '{SetId}' for nodes no search reaches: none ({ElapsedMs:F0} ms)")]
    public static partial void EveryNodeReachable(ILogger logger, string setId, double elapsedMs);

    [LoggerMessage(EventId = 418, Level = LogLevel.Warning,
        Message = "Left record '{RecordId}' (sequence {Sequence}) of '{SetId}' out of its index: {Problem}; it stays stored, but FindNearest does not find it (delete it and log it again with a valid embedding)")]
    public static partial void RecordSkipped(ILogger logger, string setId, string recordId, long sequence, string problem);

    [LoggerMessage(EventId = 423, Level = LogLevel.Information,
        Message = "The HNSW build of '{SetId}' starts again from its {Live} live records: {Deleted} of the {Total} vectors it was linking were deleted (from its checkpoint: {FromCheckpoint}); exact search keeps answering meanwhile")]
    public static partial void BuildRestarted(ILogger logger, string setId, int live, int deleted, int total, bool fromCheckpoint);
}
