using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Chroma.Server.Background;
using Chroma.Server.Storage;

namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>
/// One scoring pass over one set: read back stored scores after a start, refit when the training
/// data changed, score only the records above the highest scored sequence (in chunks, each stored
/// and published as it completes; after a refit the previous ranking stays served, marked stale,
/// until the pass ends), then measure drift. Runs on the scoring worker, never on a request; the
/// CPU-heavy steps (fit, scoring, drift, decoding stored scores) run on the <see cref="BackgroundWorkLimiter"/>.
/// </summary>
internal sealed partial class SetScoringPass
{
    /// <summary>Records read, scored and stored per step: bounds memory and the write-lock hold.</summary>
    public const int ChunkSize = 20_000;

    /// <summary>
    /// Raised on the pass's thread after it published a chunk's scores as a new revision while the pass goes on (the
    /// first pass of a set, or one over many new records, publishes its chunks as they come): the scheduler passes it on
    /// as <see cref="ScoringScheduler.RankingPublished"/>, so the rankings in use are computed again in the background
    /// instead of in the next request (probe U, U2: a page after each chunk of a million-record pass took 1-3 s).
    /// Handlers must return quickly.
    /// </summary>
    public event Action<StoredEmbeddingSet>? ChunkPublished;

    /// <summary>Gets or sets how many records a step reads, scores and stores (tests use small chunks).</summary>
    internal int ChunkRecords { get; init; } = ChunkSize;

    /// <summary>Drift measurements kept per set.</summary>
    public const int DriftHistoryLength = 100;

    private readonly IRecordScoreStore _store;
    private readonly BackgroundWorkLimiter _limiter;
    private readonly NeighborSearchFactory _searchFactory;
    private readonly RecommendationOptions _options;
    private readonly DriftOptions _driftOptions;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ProductionShiftFitter _shiftFitter;

    /// <summary>Creates the pass runner.</summary>
    public SetScoringPass(
        IRecordScoreStore store,
        BackgroundWorkLimiter limiter,
        NeighborSearchFactory searchFactory,
        RecommendationOptions options,
        DriftOptions driftOptions,
        TimeProvider time,
        ILogger<SetScoringPass> logger)
    {
        _store = store;
        _limiter = limiter;
        _searchFactory = searchFactory;
        _options = options;
        _driftOptions = driftOptions;
        _time = time;
        _logger = logger;
        _shiftFitter = new ProductionShiftFitter(store, limiter, options.Seed, options.ProductionShiftMinimumRows, logger);
    }

    /// <summary>
    /// Reads back the set's stored scores after a start and publishes them: as current when they
    /// belong to the current training data, else as the stale ranking served until the refit
    /// completes. Idempotent; <see cref="RunAsync(SetScoringState, CancellationToken)"/> calls it first when nobody did.
    /// </summary>
    public Task RestoreAsync(SetScoringState state, CancellationToken cancellationToken = default) =>
        RestoreAsync(state, following: false, keepEntries: false, saved: null, cancellationToken);

    /// <summary>
    /// As <see cref="RestoreAsync(SetScoringState, CancellationToken)"/>, from <paramref name="saved"/> (the ranking
    /// file of the last clean stop, <see cref="RankingFiles"/>) instead of the stored scores when it is not null.
    /// </summary>
    public Task RestoreAsync(SetScoringState state, SavedRanking? saved, CancellationToken cancellationToken = default) =>
        RestoreAsync(state, following: false, keepEntries: false, saved, cancellationToken);

    // `following`: the read is a replica's routine read of the ranking another replica's pass stored, not a start.
    // `keepEntries`: the entries hold what was read even when it is served stale, so FollowAsync can add to them.
    private async Task RestoreAsync(SetScoringState state, bool following, bool keepEntries, SavedRanking? saved, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Restored)
        {
            return;
        }

        var readStarted = Stopwatch.GetTimestamp();
        state.TrainingChangesSeen = state.TrainingChanges;
        var fingerprint = _store.ReadTrainingFingerprint(state.Set);
        var restored = saved is null
            ? await ReadBackAsync(state.Set, (set, visitor) => _store.VisitScores(set, visitor), cancellationToken).ConfigureAwait(false)
            : RestoredScores.From(saved);
        state.FollowedScoredUnixMs = restored.ScoredUnixMs;
        state.Restored = true;
        if (restored.Entries.Count == 0)
        {
            return;
        }

        // Current when every score has one version, of the current training data (its production part, if any, is
        // refitted from the same rows by the next pass, so nothing is rescored after a start).
        if (restored.OneVersion && ModelVersion.SameTraining(restored.FirstVersion, fingerprint.Version))
        {
            foreach (var entry in restored.Entries)
            {
                state.Entries[entry.Sequence] = entry;
            }

            state.TrainingVersion = restored.FirstVersion;
            state.MaxScoredSequence = restored.Entries[^1].Sequence;
            state.Publish(restored.ScoredUnixMs, null);
        }
        else
        {
            // Scored under older training data (or a refit cut short): serve it, marked stale, until a pass replaces it.
            // A replica that follows another's passes keeps the entries too: its next read adds only what changed.
            if (keepEntries)
            {
                foreach (var entry in restored.Entries)
                {
                    state.Entries[entry.Sequence] = entry;
                }
            }

            state.ServeStale(restored.Entries, restored.LastVersion, restored.ScoredUnixMs);
        }

        var readMs = Stopwatch.GetElapsedTime(readStarted).TotalMilliseconds;
        if (saved is not null)
        {
            ScoringLog.RankingFileRead(_logger, state.Set.SetId, restored.Entries.Count, saved.Bytes / (1024.0 * 1024), readMs + saved.ReadMs);
        }
        else if (following)
        {
            ScoringLog.Followed(_logger, state.Set.SetId, restored.Entries.Count, readMs);
        }
        else
        {
            ScoringLog.Restored(_logger, state.Set.SetId, restored.Entries.Count, readMs);
        }
    }

    /// <summary>
    /// Reads the set's stored scores and decodes them: the rows are read on a thread of their own and decoded on the
    /// limiter's as they come, <see cref="ReadBackChunk"/> at a time, so reading and decoding (JSON, half-precision unit
    /// embeddings) overlap, and only the chunks in flight are held rather than every row read. One after the other, each
    /// took about half of the 55 s a million 128-d records took, and the rows read held the server at 2.5 times its
    /// steady memory (outside-in probe 7).
    /// </summary>
    private async Task<RestoredScores> ReadBackAsync(
        StoredEmbeddingSet set, Func<StoredEmbeddingSet, Action<PersistedScore>, long> visit, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var chunks = Channel.CreateBounded<PersistedScore[]>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
        var reading = Task.Run(() => ReadChunks(set, visit, chunks.Writer, stop.Token), CancellationToken.None);
        var restored = new RestoredScores();

        // One chunk is decoded at a time, so the chunks can share one.
        var strings = new RepeatedStrings();
        try
        {
            await foreach (var chunk in chunks.Reader.ReadAllAsync(stop.Token).ConfigureAwait(false))
            {
                var decoded = await _limiter.RunAsync(() => Decode(chunk, strings), stop.Token).ConfigureAwait(false);
                restored.Add(chunk, decoded);
            }
        }
        catch
        {
            // The reader may be blocked on a full channel: stop it before the failure goes up.
            await stop.CancelAsync().ConfigureAwait(false);
            await ((Task)reading).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }

        restored.VisitResult = await reading.ConfigureAwait(false);
        return restored;
    }

    private static long ReadChunks(
        StoredEmbeddingSet set, Func<StoredEmbeddingSet, Action<PersistedScore>, long> visit, ChannelWriter<PersistedScore[]> writer, CancellationToken cancellationToken)
    {
        try
        {
            var chunk = new List<PersistedScore>(ReadBackChunk);
            var result = visit(set, score =>
            {
                chunk.Add(score);
                if (chunk.Count == ReadBackChunk)
                {
                    writer.WriteAsync([.. chunk], cancellationToken).AsTask().GetAwaiter().GetResult();
                    chunk.Clear();
                }
            });
            if (chunk.Count > 0)
            {
                writer.WriteAsync([.. chunk], cancellationToken).AsTask().GetAwaiter().GetResult();
            }

            writer.TryComplete();
            return result;
        }
        catch (Exception ex)
        {
            writer.TryComplete(ex);
            throw;
        }
    }

    /// <summary>
    /// Reads the set's stored ranking again, replacing what <paramref name="state"/> holds: on a replica that does not
    /// score the set (it serves what the scoring replica stored), and on one that takes the set over.
    /// </summary>
    public async Task ReloadAsync(SetScoringState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.Reset();

        // Read before the scores: what is written meanwhile is read again by the next FollowAsync (the same rows, so
        // nothing changes) rather than missed.
        var stamp = _store is IScoreChangeReader changes ? changes.ReadLatestScoreStamp(state.Set) : -1;
        await RestoreAsync(state, following: true, keepEntries: true, saved: null, cancellationToken).ConfigureAwait(false);
        if (state.Entries.Count == 0 && !state.Refitting)
        {
            state.Publish(Now(), null);
        }

        state.FollowedStamp = stamp;
    }

    /// <summary>Brings <paramref name="state"/> up to date with the store.</summary>
    public Task<ScoringPassResult> RunAsync(SetScoringState state, CancellationToken cancellationToken = default) =>
        RunAsync(state, scoresPublished: null, cancellationToken);

    /// <summary>
    /// Brings <paramref name="state"/> up to date with the store, calling <paramref name="scoresPublished"/> once every
    /// record read is scored, stored and published: before drift is measured, so a request waiting for a fresh
    /// ranking does not wait for drift too (not called when the pass fails before). Its argument is the highest
    /// sequence the published ranking now covers: every record stored through it had committed before the pass's last
    /// read, so it was read and scored; -1 when training records arrived during the pass (the model predates them).
    /// </summary>
    public Task<ScoringPassResult> RunAsync(SetScoringState state, Action<long>? scoresPublished, CancellationToken cancellationToken = default) =>
        RunAsync(state, scoresPublished, chunkPublished: null, cancellationToken);

    /// <summary>
    /// <see cref="RunAsync(SetScoringState, Action{long}?, CancellationToken)"/>, awaiting <paramref name="chunkPublished"/>
    /// (when given) after each chunk the pass publishes before its last: with replicas, the others then read the chunk's
    /// scores, as they read a finished pass.
    /// </summary>
    public async Task<ScoringPassResult> RunAsync(
        SetScoringState state, Action<long>? scoresPublished, Func<CancellationToken, Task>? chunkPublished, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        var started = Stopwatch.GetTimestamp();
        var set = state.Set;

        // From here the entries are this replica's own pass, not a copy of what another replica stored.
        state.FollowedStamp = -1;
        await RestoreAsync(state, cancellationToken).ConfigureAwait(false);
        var dropped = state.ApplyDeletes();

        // Read before the fingerprint: a training batch committed after this read leaves the result stale.
        state.TrainingChangesSeen = state.TrainingChanges;
        var fingerprint = _store.ReadTrainingFingerprint(set);
        if (fingerprint.Count < 2)
        {
            return NotScorable(state, fingerprint.Count);
        }

        var refit = !ModelVersion.SameTraining(state.TrainingVersion, fingerprint.Version);

        // What was stored (committed, post-commit hook run) before each read: the last read saw all of it.
        long readThrough = 0;
        IReadOnlyList<ScorableRecord> ReadPending(long afterSequence)
        {
            readThrough = state.Coverage.LatestStored;
            return _store.ReadScorable(set, afterSequence, ChunkRecords);
        }

        var pending = ReadPending(refit ? 0 : state.MaxScoredSequence);
        if (pending.Count == 0)
        {
            // Nothing to score: no fit (it can be costly and nothing would use it yet), but stale
            // scores of older training data go.
            if (refit)
            {
                state.EndRefit();
                state.Entries.Clear();
                state.MaxScoredSequence = 0;
                state.TrainingVersion = fingerprint.Version;
                await _store.SaveScoresAsync(set, fingerprint.Version, [], replaceExisting: true, state.Lease, cancellationToken).ConfigureAwait(false);
            }

            // Unchanged entries keep their revision (a new one would drop every ranking cached for the set).
            dropped += state.ApplyDeletes();
            if (refit || dropped > 0 || !state.PublishedIsCurrent)
            {
                state.Publish(Now(), null);
            }

            return new ScoringPassResult(set.SetId, 0, state.Entries.Count, refit, null, null);
        }

        var model = state.Model;
        var readTraining = TimeSpan.Zero;
        var leftOut = 0;
        ModelFitDurations? fit = null;
        if (!ModelVersion.SameTraining(model?.TrainingVersion, fingerprint.Version))
        {
            var reading = Stopwatch.GetTimestamp();
            var (training, trainingLeftOut) = OversizedEmbeddings.Without(_store.ReadTraining(set), set.Dimension);
            if (training.Labels.Count < 2)
            {
                // Fewer than two labelled records teach no classes: every training record, labels set aside, is then
                // the reference a production record is measured against (an unlabelled corpus, as an embedding
                // generator's users have).
                (training, trainingLeftOut) = OversizedEmbeddings.Without(_store.ReadTraining(set, includeUnlabelled: true), set.Dimension);
                training = training with { Labels = Enumerable.Repeat(string.Empty, training.Labels.Count).ToArray() };
            }

            readTraining = Stopwatch.GetElapsedTime(reading);
            leftOut += trainingLeftOut;
            if (training.Labels.Count < 2)
            {
                return NotScorable(state, training.Labels.Count);
            }

            var data = new TrainingData(training.Embeddings, set.Dimension, training.Labels)
            {
                Probabilities = training.Probabilities,
                PredictedClasses = training.PredictedClasses,
                Metric = set.Metric == Protocol.V1.DistanceMetric.Cosine ? NeighborMetric.Cosine : NeighborMetric.L2,
            };
            model = await _limiter.RunAsync(
                () => RecommendationModel.Fit(data, training.Fingerprint.Version, _searchFactory, _options, _limiter, cancellationToken),
                cancellationToken).ConfigureAwait(false);
            state.Training = data;
            state.Model = model;
            fit = model.FitDurations;
            ScoringLog.Fitted(
                _logger, set.SetId, (long)readTraining.TotalMilliseconds, model.FitDurations.FittedRows, model.FitDurations.HeldOutRows, model.FitDurations.NeighborRows, (long)model.FitDurations.Total.TotalMilliseconds,
                (long)model.FitDurations.Covariance.TotalMilliseconds, (long)model.FitDurations.NeighborSearch.TotalMilliseconds,
                (long)model.FitDurations.Calibration.TotalMilliseconds);
            var needed = (int)Math.Ceiling(RecommendationModel.CoarseCalibrationRows / _options.HoldOutFraction);
            if (model.CalibrationIsCoarse && model.DistinctTrainingRows >= needed)
            {
                // Enough records, too few per class: each class gives its share, rounded, and keeps one fitted (probe X,
                // X6: 1,000 classes of 3 held out 1 record, and the advice was to log 134 where 3,000 were logged).
                var classes = training.Labels.Distinct(StringComparer.Ordinal).Count();
                ScoringLog.FewHeldOutPerClass(
                    _logger, set.SetId, model.HeldOutRows.Count, training.Labels.Count, classes, model.HeldOutRows.Count + 1,
                    (int)Math.Floor(0.5 / _options.HoldOutFraction) + 1, _options.HoldOutFraction);
            }
            else if (model.CalibrationIsCoarse)
            {
                ScoringLog.FewHeldOut(
                    _logger, set.SetId, model.HeldOutRows.Count, training.Labels.Count, model.DistinctTrainingRows, model.HeldOutRows.Count + 1,
                    needed, _options.HoldOutFraction);
            }
        }

        // The production-shift classifier learns from production: fitted once there is enough, refitted as it grows.
        var shiftFitted = Stopwatch.GetTimestamp();
        var withShift = await _shiftFitter.FitIfDueAsync(state, model!, pending, refit, cancellationToken).ConfigureAwait(false);
        if (!ReferenceEquals(withShift, model))
        {
            model = withShift;
            state.Model = model;
            var shiftMs = (long)Stopwatch.GetElapsedTime(shiftFitted).TotalMilliseconds;
            var classifier = model.ProductionShift!.Classifier;
            ScoringLog.ProductionShiftFitted(
                _logger, set.SetId, classifier.TrainingRows, model.ProductionShift.AgainstReference ? "reference" : "training", classifier.ProductionRows, model.ProductionShift.ProductionCount, classifier.Auc, classifier.AucPValue,
                model.ProductionShift.Joins, shiftMs);
            if (model.ProductionShift.ReferenceCheck is { } check)
            {
                ScoringLog.ProductionShiftReferenceChecked(
                    _logger, set.SetId, model.ProductionShift.ReferenceRows, check.Auc, check.AucPValue, model.ProductionShift.AgainstReference ? "reference" : "training");
            }
        }

        // The model's version can be newer than the fingerprint read above (training arrived meanwhile), or include a
        // production-shift classifier fitted since the records were scored: both rescore every record.
        if (!string.Equals(state.TrainingVersion, model!.TrainingVersion, StringComparison.Ordinal))
        {
            if (!refit)
            {
                pending = ReadPending(0);
            }

            refit = true;

            // The ranking served so far stays served, marked stale, until every record is rescored.
            state.BeginRefit(model.TrainingVersion);
        }

        var scored = 0;
        var read = 0;
        var scoring = Stopwatch.GetTimestamp();
        while (pending.Count > 0)
        {
            // Rows are replaced one by one (never cleared first), so a crash mid-refit still leaves a ranking to serve.
            var (scorable, chunkLeftOut) = OversizedEmbeddings.Without(pending);
            scored += await ScoreChunkAsync(state, model, scorable, cancellationToken).ConfigureAwait(false);
            state.MaxScoredSequence = pending[^1].Sequence;
            read += pending.Count;
            leftOut += chunkLeftOut;
            state.ApplyDeletes();
            var before = state.Published.Revision;
            state.Publish(Now(), null);
            pending = pending.Count < ChunkRecords ? [] : ReadPending(state.MaxScoredSequence);
            if (pending.Count > 0 && state.Published.Revision != before)
            {
                ChunkPublished?.Invoke(set);
                if (chunkPublished is not null)
                {
                    await chunkPublished(cancellationToken).ConfigureAwait(false);
                }
            }
        }

        var scoringTime = Stopwatch.GetElapsedTime(scoring);
        if (leftOut > 0)
        {
            // Once per pass, not per record: a refit reads every such record again.
            ScoringLog.OversizedLeftOut(_logger, set.SetId, leftOut);
        }

        if (read > 0)
        {
            // Every record read is scored and published; a refit's ranking is no longer stale.
            state.EndRefit();
            state.ApplyDeletes();
            state.Publish(Now(), null);
            scoresPublished?.Invoke(state.TrainingChanges == state.TrainingChangesSeen ? readThrough : -1);
        }

        var measuring = Stopwatch.GetTimestamp();
        DriftResult? drift = null;
        if (read > 0 && state.Training is { } reference)
        {
            drift = await MeasureDriftAsync(set, reference, state.Lease, cancellationToken).ConfigureAwait(false);
        }

        var driftTime = Stopwatch.GetElapsedTime(measuring);

        // After a pass that scored, the ranking was published before drift: publish again only when it changed since
        // (a new revision drops every ranking cached for the set, the labeling list included).
        var refitEnded = state.Refitting;
        state.EndRefit();
        if (read == 0 || refitEnded || state.ApplyDeletes() > 0)
        {
            state.Publish(Now(), null);
        }

        var elapsedMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        ScoringLog.PassCompleted(_logger, set.SetId, scored, state.Entries.Count, state.TrainingVersion ?? "-", refit, elapsedMs);
        return new ScoringPassResult(set.SetId, scored, state.Entries.Count, refit, drift, null)
        {
            LeftOut = leftOut,
            ReadTraining = readTraining,
            Fit = fit,
            Scoring = scoringTime,
            DriftMeasurement = driftTime,
            Elapsed = Stopwatch.GetElapsedTime(started),
        };
    }

    /// <summary>
    /// Rows read back and decoded at a time after a restart. Small, so the rows in flight (about 5 KB each as read:
    /// JSON as strings, embedding bytes and floats) die young: at 16,384 a chunk (until December 6) the four chunks the
    /// channel holds outlived the collector's youngest generation and were copied into the older ones as garbage.
    /// Resident memory peaked at 6.4-6.9 GB for 1.44 million rows (3 GB kept), and the read-back took 46-57 s; at 1,024 it
    /// peaked at 3.2 GB (outside-in probe K's data, <c>recs-readback</c> and restarts in the benchmarks README).
    /// </summary>
    private const int ReadBackChunk = 1_024;

    /// <summary>What a read-back gathered: the decoded entries in sequence order, and what decides current or stale.</summary>
    private sealed class RestoredScores
    {
        private bool _any;

        public List<ScoredEntry> Entries { get; } = [];

        public string FirstVersion { get; private set; } = string.Empty;

        public string LastVersion { get; private set; } = string.Empty;

        public bool OneVersion { get; private set; } = true;

        public long ScoredUnixMs { get; private set; }

        /// <summary>Gets or sets what the visit returned (IScoreChangeReader: the highest stamp read).</summary>
        public long VisitResult { get; set; }

        /// <summary>The scores of a ranking file, as a read-back of the rows it copies would give them.</summary>
        public static RestoredScores From(SavedRanking saved)
        {
            var restored = new RestoredScores { ScoredUnixMs = saved.Header.ScoredUnixMs };
            foreach (var entry in saved.Entries)
            {
                restored.Note(entry.Record.TrainingVersion);
            }

            restored.Entries.AddRange(saved.Entries);
            return restored;
        }

        public void Add(PersistedScore[] chunk, ScoredEntry[] decoded)
        {
            foreach (var score in chunk)
            {
                Note(score.TrainingVersion);
                ScoredUnixMs = Math.Max(ScoredUnixMs, score.ScoredUnixMs);
            }

            Entries.AddRange(decoded);
        }

        // One more row, in sequence order, scored under `version`.
        private void Note(string version)
        {
            if (!_any)
            {
                FirstVersion = version;
                _any = true;
            }

            OneVersion &= string.Equals(version, FirstVersion, StringComparison.Ordinal);
            LastVersion = version;
        }
    }

    private static ScoredEntry[] Decode(PersistedScore[] stored, RepeatedStrings strings)
    {
        var entries = new ScoredEntry[stored.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            var score = stored[i];
            var record = ScoreCodec.FromStored(score, strings);
            entries[i] = new ScoredEntry(score.Record.Sequence, strings.Share(score.Record.Dataset), record) { TrainingVersion = record.TrainingVersion };
        }

        return entries;
    }

    private async Task<int> ScoreChunkAsync(
        SetScoringState state, RecommendationModel model, IReadOnlyList<ScorableRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0)
        {
            return 0;
        }

        var d = state.Set.Dimension;
        var unusable = 0;
        string? firstUnusable = null;
        var (scored, rows) = await _limiter.RunAsync(() =>
        {
            var embeddings = new float[records.Count * d];
            var probabilities = new float[]?[records.Count];
            for (var i = 0; i < records.Count; i++)
            {
                records[i].Embedding.CopyTo(embeddings.AsSpan(i * d, d));
                probabilities[i] = ScoreCodec.UsableProbabilities(records[i].Probabilities);
                if (probabilities[i] is null && records[i].Probabilities is { Length: > 0 })
                {
                    unusable++;
                    firstUnusable ??= records[i].Id;
                }
            }

            var batch = new ProductionBatch(
                [.. records.Select(r => r.Id)],
                embeddings,
                d,
                [.. records.Select(r => r.PredictedClass)],
                probabilities.Any(p => p is not null) ? probabilities : null);
            var scored = RecommendationScorer.Score(model, batch, _limiter, cancellationToken);
            var rows = new RecordScoreRow[scored.Length];
            for (var i = 0; i < scored.Length; i++)
            {
                rows[i] = ScoreCodec.ToRow(records[i].Sequence, scored[i]);
            }

            return (scored, rows);
        }, cancellationToken).ConfigureAwait(false);

        if (unusable > 0 && !state.UnusableProbabilitiesLogged)
        {
            state.UnusableProbabilitiesLogged = true;
            ScoringLog.UnusableProbabilities(_logger, state.Set.SetId, unusable, firstUnusable!);
        }

        await _store.SaveScoresAsync(state.Set, model.TrainingVersion, rows, replaceExisting: false, state.Lease, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < scored.Length; i++)
        {
            state.Entries[records[i].Sequence] = new ScoredEntry(records[i].Sequence, records[i].Dataset, scored[i]) { TrainingVersion = model.TrainingVersion };
        }

        return scored.Length;
    }

    private async Task<DriftResult?> MeasureDriftAsync(StoredEmbeddingSet set, TrainingData reference, ScoringLease? lease, CancellationToken cancellationToken)
    {
        // The scoring pass counted and logged the oversized records it left out; drift leaves out the same ones.
        var recent = OversizedEmbeddings.Without(_store.ReadRecentProduction(set, _driftOptions.Window), set.Dimension);
        if (recent.Count < 2 || reference.Count < 2)
        {
            return null;
        }

        var drift = await _limiter.RunAsync(
            () => MmdDriftDetector.Measure(reference.Embeddings, recent.Embeddings, set.Dimension, _driftOptions, _limiter, cancellationToken),
            cancellationToken).ConfigureAwait(false);
        var point = new DriftPoint(Now(), drift.Mmd2, drift.PValue, drift.ReferenceSamples, drift.RecentSamples, recent.ThroughSequence);
        await _store.SaveDriftAsync(set, point, DriftHistoryLength, _driftOptions.HistorySpacing, lease, cancellationToken).ConfigureAwait(false);
        ScoringLog.DriftMeasured(_logger, set.SetId, drift.Mmd2, drift.PValue);
        return drift;
    }

    /// <summary>
    /// On a replica that does not score <paramref name="set"/>: whether the training records stored now differ from those
    /// the <paramref name="served"/> ranking was fitted on (records came or went through another replica), so the holder
    /// refits and, until its new ranking is stored, the one served here is stale.
    /// </summary>
    public bool TrainingChangedSince(StoredEmbeddingSet set, SetScores served)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(served);
        return served.TrainingVersion is { } version && served.Entries.Count > 0
            && !ModelVersion.SameTraining(version, _store.ReadTrainingFingerprint(set).Version);
    }

    /// <summary>Why <paramref name="set"/> cannot be scored for want of training records (fewer than 2 stored), or null.</summary>
    public string? TrainingShortfall(StoredEmbeddingSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        var training = _store.ReadTrainingFingerprint(set).Count;
        return training < 2 ? TooFewTraining(set, training) : null;
    }

    // The same words whichever replica finds it, and whether a pass or a request found it.
    private static string TooFewTraining(StoredEmbeddingSet set, long training) => string.Create(CultureInfo.InvariantCulture,
        $"embedding set '{set.SetId}' has {(training == 0 ? "no" : training.ToString(CultureInfo.InvariantCulture))} training records; recommendations need at least 2 (log them with dataset \"training\"; with labels, the ranking also knows the classes)");

    private ScoringPassResult NotScorable(SetScoringState state, long training)
    {
        var problem = TooFewTraining(state.Set, training);

        // Said once while it stays so (probe X, X5: a set that keeps receiving production records said it again at every
        // pass, 29 lines a set in 90 s); the set's info and every page carry it meanwhile.
        var told = string.Equals(state.Published.TrainingProblem, problem, StringComparison.Ordinal);
        state.Publish(Now(), problem);
        if (!told)
        {
            ScoringLog.NotScorable(_logger, state.Set.SetId, problem);
        }

        return new ScoringPassResult(state.Set.SetId, 0, state.Entries.Count, false, null, problem);
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();
}
