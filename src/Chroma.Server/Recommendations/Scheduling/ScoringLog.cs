namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>Log messages of the background scoring worker.</summary>
internal static partial class ScoringLog
{
    [LoggerMessage(EventId = 300, Level = LogLevel.Information,
        Message = "Scored {Scored} new records of '{SetId}' ({Total} in all, training version {TrainingVersion}, refit: {Refit}) in {ElapsedMs} ms")]
    public static partial void PassCompleted(ILogger logger, string setId, int scored, int total, string trainingVersion, bool refit, long elapsedMs);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "Read back the {Count} stored scores of '{SetId}' in {ElapsedMs:F0} ms: its ranking is served again (until then its pages were empty and stale)")]
    public static partial void Restored(ILogger logger, string setId, int count, double elapsedMs);

    [LoggerMessage(EventId = 335, Level = LogLevel.Debug, Message = "Read the {Count} scores of '{SetId}' that the scoring replica stored, in {ElapsedMs:F0} ms: this replica serves its new ranking")]
    public static partial void Followed(ILogger logger, string setId, int count, double elapsedMs);

    [LoggerMessage(EventId = 336, Level = LogLevel.Debug,
        Message = "Read the {Changed} scores of '{SetId}' that the scoring replica stored since this replica's last read, and dropped {Dropped} deleted records, in {ElapsedMs:F0} ms: this replica serves its new ranking ({Total} records)")]
    public static partial void FollowedChanges(ILogger logger, string setId, int changed, int dropped, int total, double elapsedMs);

    [LoggerMessage(EventId = 302, Level = LogLevel.Information, Message = "'{SetId}' is not scored: {Problem}")]
    public static partial void NotScorable(ILogger logger, string setId, string problem);

    [LoggerMessage(EventId = 303, Level = LogLevel.Information, Message = "Drift of '{SetId}': MMD^2 {Mmd2:0.#####}, p = {PValue:0.###}")]
    public static partial void DriftMeasured(ILogger logger, string setId, double mmd2, double pValue);

    [LoggerMessage(EventId = 324, Level = LogLevel.Information, Message = "Read back the stored scores of {Records} records; the memory the reading used was left for the garbage collector, and a blocking collection returned it to the system: resident memory {BeforeMiB:F0} -> {AfterMiB:F0} MiB ({ElapsedMs:F0} ms; managed heap {HeapMiB:F0} MiB)")]
    public static partial void RestoredMemoryReturned(ILogger logger, long records, double beforeMiB, double afterMiB, double elapsedMs, double heapMiB);

    [LoggerMessage(EventId = 320, Level = LogLevel.Error, Message = "Stored scores of '{SetId}' could not be read back; its next pass rescores it")]
    public static partial void RestoreFailed(ILogger logger, Exception exception, string setId);

    [LoggerMessage(EventId = 321, Level = LogLevel.Information,
        Message = "Read the training records of '{SetId}' in {ReadMs} ms, then fitted it on {FittedRows} training records ({HeldOutRows} held out, {NeighborRows} in the neighbour search) in {ElapsedMs} ms: covariance {CovarianceMs} ms, neighbour search {SearchMs} ms, calibration {CalibrationMs} ms")]
    public static partial void Fitted(ILogger logger, string setId, long readMs, int fittedRows, int heldOutRows, int neighborRows, long elapsedMs, long covarianceMs, long searchMs, long calibrationMs);

    [LoggerMessage(EventId = 339, Level = LogLevel.Warning,
        Message = "A handler of the ranking '{SetId}' published part way through a pass failed; the pass goes on")]
    public static partial void ChunkHandlerFailed(ILogger logger, Exception exception, string setId);

    [LoggerMessage(EventId = 338, Level = LogLevel.Warning,
        Message = "'{SetId}' has only {HeldOutRows} held-out training record(s) to calibrate its signals against ({TrainingRows} training records, {Groups} distinct after exact copies are grouped): its p-values go below 1/{Denominator} only where a signal is extrapolated beyond the held-out values, so few records can stand out. Log at least {Needed} distinct training records ({Fraction:P0} of them are held out)")]
    public static partial void FewHeldOut(ILogger logger, string setId, int heldOutRows, int trainingRows, int groups, int denominator, int needed, double fraction);

    [LoggerMessage(EventId = 305, Level = LogLevel.Debug, Message = "'{SetId}' is scored by another replica (its lease holds); serving the ranking it stores")]
    public static partial void LeaseHeldElsewhere(ILogger logger, string setId);

    [LoggerMessage(EventId = 306, Level = LogLevel.Warning,
        Message = "Scoring lease of '{SetId}' (generation {Generation}) was taken over by another replica; this pass stops and its unsaved work is dropped")]
    public static partial void LeaseLost(ILogger logger, string setId, long generation);

    [LoggerMessage(EventId = 307, Level = LogLevel.Information, Message = "Took over scoring of '{SetId}' (lease generation {Generation}); read its stored ranking first")]
    public static partial void TookOver(ILogger logger, string setId, long generation);

    [LoggerMessage(EventId = 322, Level = LogLevel.Warning, Message = "Could not read the shared database's set watermarks; polling again every {IntervalMs} ms (logged once until a poll succeeds)")]
    public static partial void PollFailed(ILogger logger, Exception exception, long intervalMs);

    [LoggerMessage(EventId = 323, Level = LogLevel.Debug, Message = "Could not ask the replica that scores '{SetId}' to start its pass for a waiting request; the polls bring the ranking")]
    public static partial void PassRequestFailed(ILogger logger, Exception exception, string setId);

    [LoggerMessage(EventId = 328, Level = LogLevel.Information,
        Message = "Scoring pass of '{SetId}' took {ElapsedMs} ms: the set now counts as slow, and while it or another slow set is scored one of the {Lanes} scoring lanes (Scoring:ConcurrentPasses) stays kept for the other sets")]
    public static partial void SlowPass(ILogger logger, string setId, long elapsedMs, int lanes);

    [LoggerMessage(EventId = 304, Level = LogLevel.Error, Message = "Scoring pass of '{SetId}' failed; it is retried after Scoring:MaxDelay or on the next change")]
    public static partial void PassFailed(ILogger logger, Exception exception, string setId);

    [LoggerMessage(EventId = 334, Level = LogLevel.Warning,
        Message = "The failed scoring pass of '{SetId}' could not be recorded in the database for the other replicas: they do not report it, and requests waiting there run to their timeouts")]
    public static partial void FailureNotShared(ILogger logger, Exception exception, string setId);

    [LoggerMessage(EventId = 331, Level = LogLevel.Warning,
        Message = "Scoring pass of '{SetId}' left out {Count} record(s) whose embedding has a value of 2^50 or more in magnitude (stored by an older server; such values overflow squared distances and are now refused at ingest): the rest of the set is scored; delete them or log them again with smaller values")]
    public static partial void OversizedLeftOut(ILogger logger, string setId, int count);

    [LoggerMessage(EventId = 333, Level = LogLevel.Warning,
        Message = "'{SetId}' holds production records whose class_probabilities are not probabilities ({Count} in this pass, e.g. record {RecordId}: a negative value or all zero, as logits or raw scores are); they are scored without the entropy, margin and least-confidence signals. Log softmax outputs (0..1) to use them. Logged once per set until the server restarts")]
    public static partial void UnusableProbabilities(ILogger logger, string setId, int count, string recordId);

    [LoggerMessage(EventId = 330, Level = LogLevel.Information,
        Message = "Fitted the production-shift classifier of '{SetId}' on {ComparedRows} {ComparedWith} and {ProductionRows} production rows (of {ProductionCount}): out-of-fold AUC {Auc:0.000}, p = {PValue:0.###e+0}, joins the scores: {Joins}; {ElapsedMs} ms")]
    public static partial void ProductionShiftFitted(
        ILogger logger, string setId, int comparedRows, string comparedWith, int productionRows, long productionCount, double auc, double pValue, bool joins, long elapsedMs);

    [LoggerMessage(EventId = 337, Level = LogLevel.Debug,
        Message = "Tried the production-shift classifier of '{SetId}' again on {ProductionCount} production rows: it still cannot tell production from training (out-of-fold AUC {Auc:0.000}, p = {PValue:0.###e+0}), so the signal stays out and nothing is rescored")]
    public static partial void ProductionShiftStillLeftOut(ILogger logger, string setId, long productionCount, double auc, double pValue);

    [LoggerMessage(EventId = 332, Level = LogLevel.Information,
        Message = "Compared the training rows of '{SetId}' with its {ReferenceRows} reference rows: out-of-fold AUC {Auc:0.000}, p = {PValue:0.###e+0}; production is compared with the {ComparedWith} rows")]
    public static partial void ProductionShiftReferenceChecked(ILogger logger, string setId, int referenceRows, double auc, double pValue, string comparedWith);

    [LoggerMessage(EventId = 325, Level = LogLevel.Information,
        Message = "Read back the {Count} scores of '{SetId}' from the ranking file saved at the last stop ({MiB:F0} MiB) in {ElapsedMs:F0} ms: its ranking is served again")]
    public static partial void RankingFileRead(ILogger logger, string setId, int count, double miB, double elapsedMs);

    [LoggerMessage(EventId = 326, Level = LogLevel.Information,
        Message = "Saved the rankings of {Sets} sets ({Records} scored records, {MiB:F0} MiB) in {ElapsedMs:F0} ms, so the next start serves them without reading every stored score back")]
    public static partial void RankingFilesSaved(ILogger logger, int sets, long records, double miB, double elapsedMs);

    [LoggerMessage(EventId = 327, Level = LogLevel.Warning,
        Message = "The ranking file {Path} of '{SetId}' was not used ({Reason}); its stored scores are read back from the database instead")]
    public static partial void RankingFileRefused(ILogger logger, string setId, string path, string reason);

    [LoggerMessage(EventId = 329, Level = LogLevel.Warning,
        Message = "The ranking of '{SetId}' was not saved at the stop ({Reason}); the next start reads its stored scores back from the database")]
    public static partial void RankingFileNotSaved(ILogger logger, Exception? exception, string setId, string reason);

    [LoggerMessage(EventId = 341, Level = LogLevel.Warning,
        Message = "The rankings of {NotSaved} of {Sets} sets were not saved at the stop (the shutdown timeout, Chroma:ShutdownTimeout, ran out at '{SetId}'); the next start reads their stored scores back from the database")]
    public static partial void RankingFilesNotSavedAtStop(ILogger logger, int notSaved, int sets, string setId);

    [LoggerMessage(EventId = 342, Level = LogLevel.Warning,
        Message = "'{SetId}' has only {HeldOutRows} held-out training record(s) to calibrate its signals against although it has {TrainingRows} training records: they are spread over {Classes} classes, and each class gives {Fraction:P0} of its records to the held-out slice, rounded, keeping at least one to fit, so small classes give none. Its p-values go below 1/{Denominator} only where a signal is extrapolated beyond the held-out values, so few records can stand out. Log at least {PerClass} training records for each class")]
    public static partial void FewHeldOutPerClass(ILogger logger, string setId, int heldOutRows, int trainingRows, int classes, int denominator, int perClass, double fraction);
}
