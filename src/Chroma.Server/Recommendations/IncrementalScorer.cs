using Chroma.Server.Background;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Keeps the scored production records of one embedding set current: a new batch scores only the
/// records not yet scored under the current model, and a new model (training changed) drops every
/// score so the caller re-adds its production records. Thread-safe.
/// </summary>
internal sealed class IncrementalScorer
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ScoredRecord> _scored = new(StringComparer.Ordinal);
    private RecommendationModel _model;

    /// <summary>Starts with <paramref name="model"/> and no scored records.</summary>
    public IncrementalScorer(RecommendationModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
    }

    /// <summary>The model scores are computed with.</summary>
    public RecommendationModel Model
    {
        get
        {
            lock (_gate)
            {
                return _model;
            }
        }
    }

    /// <summary>How many records are scored under the current model.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _scored.Count;
            }
        }
    }

    /// <summary>A snapshot of the scored records (in no particular order).</summary>
    public IReadOnlyList<ScoredRecord> Snapshot()
    {
        lock (_gate)
        {
            return [.. _scored.Values];
        }
    }

    /// <summary>
    /// Switches to <paramref name="model"/> when its training version differs from the current one,
    /// dropping all scores. Returns whether it switched (then re-add the production records).
    /// </summary>
    public bool UseModel(RecommendationModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        lock (_gate)
        {
            if (string.Equals(model.TrainingVersion, _model.TrainingVersion, StringComparison.Ordinal))
            {
                return false;
            }

            _model = model;
            _scored.Clear();
            return true;
        }
    }

    /// <summary>Scores the records of <paramref name="batch"/> not already scored (on <paramref name="limiter"/>, the shared one when null); returns how many it scored.</summary>
    public int Add(ProductionBatch batch, BackgroundWorkLimiter? limiter = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        RecommendationModel model;
        List<int> fresh;
        lock (_gate)
        {
            model = _model;
            fresh = Enumerable.Range(0, batch.Count).Where(i => !_scored.ContainsKey(batch.Ids[i])).ToList();
        }

        if (fresh.Count == 0)
        {
            return 0;
        }

        var scored = RecommendationScorer.Score(model, fresh.Count == batch.Count ? batch : Subset(batch, fresh), limiter, cancellationToken);
        lock (_gate)
        {
            // A model swap while scoring makes these scores stale: drop them rather than mix versions.
            if (!ReferenceEquals(model, _model))
            {
                return 0;
            }

            foreach (var record in scored)
            {
                _scored[record.Id] = record;
            }
        }

        return scored.Length;
    }

    private static ProductionBatch Subset(ProductionBatch batch, List<int> rows)
    {
        var d = batch.Dimension;
        var embeddings = new float[rows.Count * d];
        for (var i = 0; i < rows.Count; i++)
        {
            batch.Row(rows[i]).CopyTo(embeddings.AsSpan(i * d, d));
        }

        return new ProductionBatch(
            rows.Select(r => batch.Ids[r]).ToArray(),
            embeddings,
            d,
            batch.PredictedClasses is null ? null : rows.Select(batch.PredictedClass).ToArray(),
            batch.Probabilities is null ? null : rows.Select(batch.ProbabilitiesOf).ToArray());
    }
}
