using System.Numerics.Tensors;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Measures the raw embedding-based signals of one record (Mahalanobis distance, kNN distance,
/// boundary disagreement) against fitted training data. Shared by calibration (held-out training
/// records) and scoring (production records), so both are measured the same way.
/// </summary>
/// <param name="Mahalanobis">Class means and shrunk covariance.</param>
/// <param name="NeighborSearch">Search over every training row under <paramref name="Metric"/>.</param>
/// <param name="NeighborLabels">Labels of those rows, indexed like the search.</param>
/// <param name="NeighborCount">k.</param>
/// <param name="Metric">The set's metric: which vector the search gets (raw for L2, unit for cosine).</param>
internal sealed record SignalMeasurer(
    MahalanobisScorer Mahalanobis,
    ITrainingNeighborSearch NeighborSearch,
    IReadOnlyList<string> NeighborLabels,
    int NeighborCount,
    NeighborMetric Metric)
{
    /// <summary>One Gaussian over all fitted rows (labels ignored) for the relative Mahalanobis distance, or null for none.</summary>
    public MahalanobisScorer? Background { get; init; }

    /// <summary>
    /// The rows the neighbour search was built from (row-major, indexed like it: raw embeddings for L2, unit vectors
    /// for cosine), for <see cref="EmbeddingMeasurement.NearestTrainingDistance"/>; null to leave that unmeasured.
    /// </summary>
    public float[]? SearchRows { get; init; }

    /// <summary>Median embedding length of each class's fitted rows, for <see cref="EmbeddingMeasurement.NormShortfall"/>; null for none.</summary>
    public IReadOnlyDictionary<string, double>? ClassNorms { get; init; }

    /// <summary>The second search for records in the neighbour signals' tail, or null to search once.</summary>
    public NeighborRefinement? Refinement { get; init; }

    /// <summary>Measures one record from its raw embedding and its unit vector.</summary>
    public EmbeddingMeasurement Measure(ReadOnlySpan<float> embedding, ReadOnlySpan<float> unitEmbedding, string? predictedClass)
    {
        var measurement = MeasureOnce(embedding, unitEmbedding, predictedClass);
        return Refinement is { } refinement && refinement.Applies(measurement.Neighbors)
            ? WithNeighbors(measurement, refinement.Search.Search(Query(embedding, unitEmbedding), NeighborCount), unitEmbedding, predictedClass)
            : measurement;
    }

    /// <summary>
    /// Measures <paramref name="measurements"/>.Length records like <see cref="Measure"/>, from row-major raw embeddings
    /// and unit vectors; the records the <see cref="Refinement"/> searches again are searched together
    /// (<see cref="RefineMany"/>).
    /// </summary>
    public void MeasureMany(
        ReadOnlySpan<float> embeddings, ReadOnlySpan<float> unitEmbeddings, Func<int, string?> predictedClass, Span<EmbeddingMeasurement> measurements)
    {
        ArgumentNullException.ThrowIfNull(predictedClass);
        var d = Mahalanobis.Dimension;
        for (var i = 0; i < measurements.Length; i++)
        {
            measurements[i] = MeasureOnce(embeddings.Slice(i * d, d), unitEmbeddings.Slice(i * d, d), predictedClass(i));
        }

        RefineMany(embeddings, unitEmbeddings, predictedClass, ownRows: null, label: null, measurements);
    }

    /// <summary>
    /// Searches again, all together, the records among <paramref name="measurements"/> whose neighbour signals are in the
    /// <see cref="Refinement"/>'s tail, and reads their neighbour signals off what it finds (each leaving out its own
    /// training row and its copies, <paramref name="ownRows"/>(i), search indices ascending, when given). An exact
    /// second search reads the training rows once for all of them (<see cref="NeighborRefinement.SearchMany"/>). With
    /// <paramref name="label"/> (held-out training records) each one's <see cref="NeighborSignals.LabelAgreement"/> is
    /// read against its label.
    /// </summary>
    public void RefineMany(
        ReadOnlySpan<float> embeddings,
        ReadOnlySpan<float> unitEmbeddings,
        Func<int, string?> predictedClass,
        Func<int, int[]>? ownRows,
        Func<int, string?>? label,
        Span<EmbeddingMeasurement> measurements)
    {
        ArgumentNullException.ThrowIfNull(predictedClass);
        if (Refinement is not { } refinement)
        {
            return;
        }

        var d = Mahalanobis.Dimension;
        var again = new List<int>();
        for (var i = 0; i < measurements.Length; i++)
        {
            if (refinement.Applies(measurements[i].Neighbors))
            {
                again.Add(i);
            }
        }

        if (again.Count == 0)
        {
            return;
        }

        var queries = new float[again.Count * d];
        for (var j = 0; j < again.Count; j++)
        {
            Query(embeddings.Slice(again[j] * d, d), unitEmbeddings.Slice(again[j] * d, d)).CopyTo(queries.AsSpan(j * d, d));
        }

        var found = refinement.SearchMany(queries, d, NeighborCount + (ownRows is null ? 0 : again.Max(i => ownRows(i).Length)));
        for (var j = 0; j < again.Count; j++)
        {
            var i = again[j];
            var neighbors = ownRows is null ? found[j] : Others(found[j], ownRows(i));
            measurements[i] = WithNeighbors(measurements[i], neighbors, unitEmbeddings.Slice(i * d, d), predictedClass(i), label?.Invoke(i));
        }
    }

    /// <summary>
    /// Measures a training record as if it were new: its k nearest among the training rows other than
    /// <paramref name="ownRows"/> (its own row and its copies, search indices, ascending), so a held-out record meets a
    /// search without itself as a production record meets one without its own (Mahalanobis and the rest: the caller
    /// fitted them without these rows). Its signals are read against <paramref name="predictedClass"/> (the model's
    /// prediction for it, as a production record's are, or its label when the model's is unknown);
    /// <see cref="NeighborSignals.LabelAgreement"/> against <paramref name="label"/>.
    /// </summary>
    public EmbeddingMeasurement MeasureLeavingOut(ReadOnlySpan<float> embedding, ReadOnlySpan<float> unitEmbedding, string? predictedClass, int[] ownRows, string? label = null)
    {
        ArgumentNullException.ThrowIfNull(ownRows);
        var query = Query(embedding, unitEmbedding);
        var measurement = MeasureOnce(embedding, unitEmbedding, predictedClass, Others(NeighborSearch.Search(query, NeighborCount + ownRows.Length), ownRows), label);
        return Refinement is { } refinement && refinement.Applies(measurement.Neighbors)
            ? WithNeighbors(measurement, Others(refinement.Search.Search(query, NeighborCount + ownRows.Length), ownRows), unitEmbedding, predictedClass, label)
            : measurement;
    }

    // Every signal, the neighbour signals from `neighbors` (one search of the neighbour search when null); `label`: a
    // held-out record's own label, for NeighborSignals.LabelAgreement.
    private EmbeddingMeasurement MeasureOnce(
        ReadOnlySpan<float> embedding,
        ReadOnlySpan<float> unitEmbedding,
        string? predictedClass,
        IReadOnlyList<(int TrainingIndex, float Distance)>? neighbors = null,
        string? label = null)
    {
        var (distance, nearest) = Mahalanobis.Score(embedding);
        neighbors ??= NeighborSearch.Search(Query(embedding, unitEmbedding), NeighborCount);
        return new EmbeddingMeasurement(distance, Mahalanobis.Classes[nearest], NeighborSignals.From(neighbors, NeighborLabels, predictedClass, label))
        {
            RelativeMahalanobis = Relative(embedding, distance),
            NearestTrainingDistance = NearestUnitDistance(unitEmbedding, neighbors),
            NormShortfall = Shortfall(embedding, predictedClass ?? Mahalanobis.Classes[nearest], Mahalanobis.Classes[nearest]),
        };
    }

    // The measurement with its neighbour signals read off other neighbours.
    private EmbeddingMeasurement WithNeighbors(
        EmbeddingMeasurement measurement,
        IReadOnlyList<(int TrainingIndex, float Distance)> neighbors,
        ReadOnlySpan<float> unitEmbedding,
        string? predictedClass,
        string? label = null) =>
        measurement with
        {
            Neighbors = NeighborSignals.From(neighbors, NeighborLabels, predictedClass, label),
            NearestTrainingDistance = NearestUnitDistance(unitEmbedding, neighbors),
        };

    // The first k of the found rows other than the record's own rows (ascending).
    private List<(int TrainingIndex, float Distance)> Others(IReadOnlyList<(int TrainingIndex, float Distance)> found, int[] ownRows)
    {
        var others = new List<(int TrainingIndex, float Distance)>(NeighborCount);
        foreach (var neighbor in found)
        {
            if (Array.BinarySearch(ownRows, neighbor.TrainingIndex) < 0 && others.Count < NeighborCount)
            {
                others.Add(neighbor);
            }
        }

        return others;
    }

    // Relative Mahalanobis (Ren et al. 2021): squared distance to the nearest class mean minus squared distance to
    // the background Gaussian; null without a background.
    private double? Relative(ReadOnlySpan<float> embedding, double distance)
    {
        if (Background is not { } background)
        {
            return null;
        }

        var (backgroundDistance, _) = background.Score(embedding);
        return (distance * distance) - (backgroundDistance * backgroundDistance);
    }

    // 1 - ||x|| / (median length of the class's fitted rows): the predicted class, or the nearest class mean's when
    // the prediction is not a training class; null without class norms.
    private double? Shortfall(ReadOnlySpan<float> embedding, string predictedClass, string nearestClass)
    {
        if (ClassNorms is not { } norms
            || !(norms.TryGetValue(predictedClass, out var median) || norms.TryGetValue(nearestClass, out median))
            || !(median > 0))
        {
            return null;
        }

        return 1 - (TensorPrimitives.Norm(embedding) / median);
    }

    // The smallest distance between unit vectors from this record to one of its neighbours (the nearest under the
    // set's metric need not be the nearest between unit vectors, so every neighbour found is measured); null
    // without the search's rows.
    private double? NearestUnitDistance(ReadOnlySpan<float> unitEmbedding, IReadOnlyList<(int TrainingIndex, float Distance)> neighbors)
    {
        if (SearchRows is not { } rows || neighbors.Count == 0)
        {
            return null;
        }

        var d = unitEmbedding.Length;
        var self = (double)TensorPrimitives.Dot(unitEmbedding, unitEmbedding);
        var nearest = double.PositiveInfinity;
        foreach (var (index, _) in neighbors)
        {
            var row = rows.AsSpan(index * d, d);
            var norm = (double)TensorPrimitives.Norm(row);

            // |u - r/|r||^2 = |u|^2 - 2 u.r/|r| + 1; a zero row stays zero (distance |u|).
            var squared = norm > 0 ? self - (2 * TensorPrimitives.Dot(unitEmbedding, row) / norm) + 1 : self;
            nearest = Math.Min(nearest, Math.Sqrt(Math.Max(0, squared)));
        }

        return nearest;
    }

    private ReadOnlySpan<float> Query(ReadOnlySpan<float> embedding, ReadOnlySpan<float> unitEmbedding) =>
        Metric == NeighborMetric.Cosine ? unitEmbedding : embedding;
}

/// <summary>Raw embedding-based signals of one record, before calibration.</summary>
/// <param name="MahalanobisDistance">Distance to the nearest class mean.</param>
/// <param name="NearestClass">That class.</param>
/// <param name="Neighbors">kNN distance and boundary disagreement.</param>
internal readonly record struct EmbeddingMeasurement(double MahalanobisDistance, string NearestClass, NeighborSignals Neighbors)
{
    /// <summary>
    /// Relative Mahalanobis distance (Ren et al. 2021): the squared distance to the nearest class mean minus the
    /// squared distance to one Gaussian fitted to all training rows, or null when the model has no background fit.
    /// Large when a record is far from its class in directions the training data as a whole does not explain.
    /// </summary>
    public double? RelativeMahalanobis { get; init; }

    /// <summary>
    /// Euclidean distance between this record's unit vector and the nearest of its training neighbours' unit vectors
    /// (0 to 2), or null when it was not measured (records scored before it existed). How well the training data
    /// already covers this record: the labeling list (<see cref="LabelingSelector"/>) treats the training rows as
    /// picks already made.
    /// </summary>
    public double? NearestTrainingDistance { get; init; }

    /// <summary>
    /// <c>1 - ||x|| / m_c</c>, with <c>m_c</c> the median embedding length of the fitted training rows of the
    /// predicted class (the nearest class mean's when the prediction is not a training class): 0 at the class's typical
    /// length, up to 1 for a zero vector, negative for a longer one. Null when the model has no class norms.
    /// </summary>
    public double? NormShortfall { get; init; }
}
