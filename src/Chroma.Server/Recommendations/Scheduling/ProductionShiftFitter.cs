using Chroma.Server.Background;
using Chroma.Server.Storage;
using Microsoft.Extensions.Logging;

namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>
/// The refit policy of a set's production-shift classifier (<see cref="ProductionShift"/>), run by
/// <see cref="SetScoringPass"/> after the training model is fitted: fitted once there are
/// <see cref="RecommendationOptions.ProductionShiftMinimumRows"/> production rows, refitted whenever production has grown
/// <see cref="ProductionShift.RefitGrowth"/>-fold, fitted again on the same rows after a start (less the records deleted
/// since, under the stored scores' version). A model with a new
/// classifier has a new version, so the pass rescores every record through its model-change path. While the signal is
/// left out (the classifier could not tell production from training), a refit is tried each time production grows
/// <see cref="ProductionShift.RetryGrowth"/>-fold, and kept only when the signal then joins: a shift that begins after
/// the first fit is found without waiting for production to double (probe P). A try first checks the rows stored since
/// the last fit or check alone (fitted against training), and reads every production row only when those differ.
/// </summary>
/// <param name="store">Where the production rows are read from (in chunks, to sample them).</param>
/// <param name="limiter">Threads for the fit.</param>
/// <param name="seed">Seed of the production sample.</param>
/// <param name="minimumRows">Fewest production rows the classifier is fitted on (fewer: no production-shift signal yet).</param>
/// <param name="logger">Where a try that still left the signal out is logged.</param>
internal sealed class ProductionShiftFitter(IRecordScoreStore store, BackgroundWorkLimiter limiter, int seed, int minimumRows, ILogger logger)
{
    private readonly ILogger _logger = logger;
    private readonly int _minimumRows = minimumRows;
    private readonly IRecordScoreStore _store = store;
    private readonly BackgroundWorkLimiter _limiter = limiter;
    private readonly int _seed = seed;

    // Production rows known to this pass: those scored before plus those read now (a rescoring pass reads from the
    // start, while the entries still hold the previous scores). Only the first chunk is read yet, so a large backlog is
    // counted by the next pass. Reference rows are scored too but are not production: counted as production, a set with
    // more of them than production refitted (and rescored every record) on every pass (one count over the entries).
    private static long EstimateProductionCount(SetScoringState state, IReadOnlyList<ScorableRecord> pending, bool rescoringAll)
    {
        var scored = state.Entries.Values.Count(e => !IsReference(e.Dataset));
        var read = pending.Count(r => !IsReference(r.Dataset));
        return rescoringAll ? Math.Max(scored, read) : scored + read;
    }

    private static bool IsReference(string dataset) => string.Equals(dataset, DatasetNames.Reference, StringComparison.Ordinal);

    // Reference rows logged after the last fit make a refit due when they first reach the minimum, or double the reference
    // rows the last fit considered (up to its sample's size), so a reference set logged late is used without waiting for
    // production to double. The scored entries are counted only in a pass that read new reference rows.
    private static bool ReferenceRefitDue(ProductionShift current, SetScoringState state, IReadOnlyList<ScorableRecord> pending, bool rescoringAll)
    {
        var pendingReference = pending.Count(r => IsReference(r.Dataset));
        if (pendingReference == 0)
        {
            return false;
        }

        var scoredReference = state.Entries.Values.Count(e => IsReference(e.Dataset));
        var references = Math.Min(
            rescoringAll ? Math.Max(scoredReference, pendingReference) : scoredReference + pendingReference,
            ProductionShift.MaxSampleRows);
        return references >= ProductionShift.MinimumReferenceRows
            && (current.ReferenceRows < ProductionShift.MinimumReferenceRows || references >= ProductionShift.RefitGrowth * current.ReferenceRows);
    }

    /// <summary>
    /// The model with a production-shift classifier (<see cref="ProductionShift"/>) when one is due: a fresh one once
    /// there are <see cref="RecommendationOptions.ProductionShiftMinimumRows"/> production rows and whenever production has grown
    /// <see cref="ProductionShift.RefitGrowth"/>-fold since the last fit, or the set's reference rows first reach
    /// <see cref="ProductionShift.MinimumReferenceRows"/> or double the ones it was fitted on; after a start (a model without one, entries
    /// scored under one of the same training data) the same classifier again, fitted on the same rows, so the stored
    /// scores stay current. Otherwise <paramref name="model"/> itself.
    /// </summary>
    /// <param name="state">The set's scoring state (its training data, version and scored entries).</param>
    /// <param name="model">The model fitted on the current training data.</param>
    /// <param name="pending">The records the pass has read so far.</param>
    /// <param name="rescoringAll">Whether the pass read them from the start (the entries then still hold the previous scores).</param>
    /// <param name="cancellationToken">Stops the fit.</param>
    public async Task<RecommendationModel> FitIfDueAsync(
        SetScoringState state, RecommendationModel model, IReadOnlyList<ScorableRecord> pending, bool rescoringAll, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(pending);
        var productionCount = EstimateProductionCount(state, pending, rescoringAll);
        if (state.Training is not { } training)
        {
            return model;
        }

        long through;
        (long Through, long Count)? stored = null;
        var tryOnly = false;
        if (model.ProductionShift is { } current)
        {
            if (!current.RefitDue(productionCount) && !ReferenceRefitDue(current, state, pending, rescoringAll))
            {
                // The signal is left out and production has grown: a shift may have begun since that fit. The rows
                // since are checked alone first (against a reference set, every row is read: they are not comparable).
                if (!current.RetryDue(productionCount, state.ProductionShiftTriedAt, _minimumRows)
                    || (!current.AgainstReference && !await RecentRowsDifferAsync(state, model, current, training, productionCount, cancellationToken).ConfigureAwait(false)))
                {
                    return model;
                }

                tryOnly = true;
            }

            through = long.MaxValue;
        }
        else if (ModelVersion.SameTraining(state.TrainingVersion, model.TrainingVersion)
            && ModelVersion.TryReadShift(state.TrainingVersion, out var scoredThrough, out var scoredCount)
            && productionCount < ProductionShift.RefitGrowth * Math.Max(1, scoredCount))
        {
            through = scoredThrough;
            stored = (scoredThrough, scoredCount);
        }
        else if (productionCount >= _minimumRows)
        {
            through = long.MaxValue;
        }
        else
        {
            return model;
        }

        var (sample, count, highest, reference) = SampleProduction(state.Set, through);
        if (count < _minimumRows)
        {
            return model;
        }

        if (stored is { } same)
        {
            // After a start: the rows the stored scores' classifier was fitted on, less any deleted since (deletes alone
            // never refit it). Named as the stored scores name it, so they stay current; a new count or highest sequence
            // would rescore every record after each restart or takeover (probe I).
            (highest, count) = same;
        }

        var fitted = await _limiter.RunAsync(
            () => model.WithProductionShift(training, sample, highest, count, reference, _limiter, cancellationToken),
            cancellationToken).ConfigureAwait(false);
        if (tryOnly && fitted.ProductionShift is not { Joins: true })
        {
            // Still no shift to tell: the model stays as it is (so nothing is rescored), and the next try waits for growth.
            NotKept(state, productionCount, count, fitted.ProductionShift);
            return model;
        }

        state.ProductionShiftTriedAt = 0;
        state.ProductionShiftCheckedThrough = 0;
        return fitted;
    }

    /// <summary>
    /// Before a try reads every production row: whether the rows stored since the last fit (or the last check) can be
    /// told from training, by the same classifier fitted on them alone. Only they can hold a shift that began since, and
    /// reading them costs a tenth of the set where reading all of it costs the whole (at a million rows, many seconds in
    /// every tenth of growth). When they cannot, the try ends here and the next waits for growth.
    /// </summary>
    private async Task<bool> RecentRowsDifferAsync(
        SetScoringState state, RecommendationModel model, ProductionShift current, TrainingData training, long productionCount, CancellationToken cancellationToken)
    {
        var checkedThrough = Math.Max(state.ProductionShiftCheckedThrough, current.ThroughSequence);
        var (recent, count, highest, _) = SampleProduction(state.Set, long.MaxValue, checkedThrough);
        if (count < Math.Max(1, _minimumRows / 10))
        {
            return false;
        }

        var check = await _limiter.RunAsync(
            () => model.WithProductionShift(training, recent, highest, count, null, _limiter, cancellationToken),
            cancellationToken).ConfigureAwait(false);
        state.ProductionShiftCheckedThrough = highest;
        if (check.ProductionShift is { Joins: true })
        {
            return true;
        }

        NotKept(state, productionCount, count, check.ProductionShift);
        return false;
    }

    // A try (or its check on the recent rows) that still cannot tell production from training: the next waits for growth.
    private void NotKept(SetScoringState state, long productionCount, long rows, ProductionShift? tried)
    {
        state.ProductionShiftTriedAt = productionCount;
        ScoringLog.ProductionShiftStillLeftOut(_logger, state.Set.SetId, rows, tried?.Classifier.Auc ?? double.NaN, tried?.Classifier.AucPValue ?? double.NaN);
    }

    /// <summary>
    /// Seeded uniform samples (reservoirs) of at most <see cref="ProductionShift.MaxSampleRows"/> of the set's scorable
    /// records stored through <paramref name="through"/>, read in chunks: the same rows give the same samples. Rows of
    /// the <c>reference</c> dataset (<see cref="DatasetNames.Reference"/>) go to their own sample and are not counted as
    /// production; every other scorable dataset is. Returns the production sample with how many production rows there
    /// were, the highest sequence read, and the reference sample.
    /// </summary>
    private (List<ShiftSample> Sample, long Count, long Highest, List<ShiftSample> Reference) SampleProduction(StoredEmbeddingSet set, long through, long startAfter = 0)
    {
        var production = new Reservoir(_seed);
        var reference = new Reservoir(_seed + 1);
        long highest = startAfter, after = startAfter;
        while (true)
        {
            var chunk = _store.ReadScorable(set, after, SetScoringPass.ChunkSize);
            foreach (var record in chunk)
            {
                if (record.Sequence > through)
                {
                    return (production.Rows, production.Seen, highest, reference.Rows);
                }

                highest = record.Sequence;
                if (OversizedEmbeddings.IsOversized(record.Embedding))
                {
                    // Left out of scoring too (the pass counts and logs it): its values would swamp the classifier.
                    continue;
                }

                var row = new ShiftSample(record.Embedding, ScoreCodec.UsableProbabilities(record.Probabilities), ProductionShiftClassifier.FoldOf(record.Id), record.PredictedClass);
                (IsReference(record.Dataset) ? reference : production).Offer(row);
            }

            if (chunk.Count < SetScoringPass.ChunkSize)
            {
                return (production.Rows, production.Seen, highest, reference.Rows);
            }

            after = chunk[^1].Sequence;
        }
    }

    /// <summary>A seeded reservoir sample (algorithm R) of at most <see cref="ProductionShift.MaxSampleRows"/> rows.</summary>
    private sealed class Reservoir(int seed)
    {
#pragma warning disable CA5394 // A seeded, reproducible sample is the point; nothing here is security-sensitive.
        private readonly Random _random = new(seed);

        public List<ShiftSample> Rows { get; } = [];

        public long Seen { get; private set; }

        public void Offer(ShiftSample row)
        {
            Seen++;
            if (Rows.Count < ProductionShift.MaxSampleRows)
            {
                Rows.Add(row);
            }
            else if (_random.NextInt64(Seen) is var slot && slot < ProductionShift.MaxSampleRows)
            {
                Rows[(int)slot] = row;
            }
        }
#pragma warning restore CA5394
    }
}
