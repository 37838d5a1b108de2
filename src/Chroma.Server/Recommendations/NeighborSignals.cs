namespace Chroma.Server.Recommendations;

/// <summary>
/// The two signals read off a record's k nearest training neighbours (unit-normalised embeddings).
/// </summary>
/// <param name="MeanDistance">kNN distance: <c>(1/k) sum_j dist(x, n_j)</c>; large means far from all training data.</param>
/// <param name="Disagreement">
/// Boundary uncertainty: the share of the k neighbours whose label differs from the reference class
/// (the predicted class; without one, the neighbours' majority label, so it is one minus the majority share).
/// </param>
/// <param name="NeighborCount">k actually found.</param>
/// <param name="DominantOtherClass">The most common neighbour label other than the reference class, or null.</param>
/// <param name="DominantOtherCount">How many neighbours carry <paramref name="DominantOtherClass"/>.</param>
internal readonly record struct NeighborSignals(
    double MeanDistance,
    double Disagreement,
    int NeighborCount,
    string? DominantOtherClass,
    int DominantOtherCount)
{
    /// <summary>
    /// Whether the plurality of the neighbours is the record's own label: 1, 0.5 for a tie with the strongest other
    /// class, else 0; null when the record has no label (production records). Measured on held-out training records
    /// only, for the neighbours' accuracy (<see cref="BoundaryReliability"/>'s <c>A_k</c>), which is taken against the
    /// label even where <see cref="Disagreement"/> is taken against the model's prediction.
    /// </summary>
    public double? LabelAgreement { get; init; }

    /// <summary>Computes both signals from a neighbour list and the labels it indexes.</summary>
    /// <param name="neighbors">Neighbours, nearest first (at least one).</param>
    /// <param name="labels">Label of each indexed training record.</param>
    /// <param name="predictedClass">The model's predicted class, or null.</param>
    /// <param name="label">The record's own label (a held-out training record), or null: sets <see cref="LabelAgreement"/>.</param>
    public static NeighborSignals From(
        IReadOnlyList<(int TrainingIndex, float Distance)> neighbors,
        IReadOnlyList<string> labels,
        string? predictedClass,
        string? label = null)
    {
        ArgumentNullException.ThrowIfNull(neighbors);
        ArgumentNullException.ThrowIfNull(labels);
        if (neighbors.Count == 0)
        {
            throw new ArgumentException("The neighbour search returned no neighbours.", nameof(neighbors));
        }

        double sum = 0;
        var votes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (index, distance) in neighbors)
        {
            sum += distance;
            var neighborLabel = labels[index];
            votes[neighborLabel] = votes.GetValueOrDefault(neighborLabel) + 1;
        }

        // Ties break by ordinal label order so the result does not depend on dictionary order.
        var ranked = votes.OrderByDescending(v => v.Value).ThenBy(v => v.Key, StringComparer.Ordinal).ToList();
        var reference = predictedClass ?? ranked[0].Key;
        var agreeing = votes.GetValueOrDefault(reference);
        var other = ranked.FirstOrDefault(v => !string.Equals(v.Key, reference, StringComparison.Ordinal));
        return new NeighborSignals(
            sum / neighbors.Count,
            (neighbors.Count - agreeing) / (double)neighbors.Count,
            neighbors.Count,
            other.Key,
            other.Value)
        {
            LabelAgreement = label is null ? null : BoundaryReliability.Agrees(
                votes.GetValueOrDefault(label),
                ranked.Where(v => !string.Equals(v.Key, label, StringComparison.Ordinal)).Select(v => v.Value).FirstOrDefault()),
        };
    }
}
