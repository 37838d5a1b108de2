namespace Chroma.Server.Recommendations;

/// <summary>
/// How much the <see cref="SignalKind.Boundary"/> signal (the share of a record's training neighbours whose label is not
/// its predicted class) says about the model's own errors: the factor its weight carries in a combined score
/// (<see cref="SignalCombiner"/>), 0 to 1.
/// </summary>
/// <remarks>
/// <para>
/// The boundary signal is a second classifier, k nearest neighbours over the training embeddings, disagreeing with the
/// model. A disagreement is the model's error or the neighbours' error. Where the neighbours classify as well as the
/// model (an embedding the network learnt, where classes form clusters), about half of the disagreements are the
/// model's, and the signal adds what the model's own probabilities miss. Where the neighbours classify much worse (raw
/// or generic embeddings whose classes a linear model separates but that do not cluster by class), most disagreements
/// are the neighbours' errors: the signal then flags records the model gets right, and mixing it in with full weight
/// put the uncertainty strategy below plain maximum softmax on "misclassified vs correct" (0.857-0.860 against 0.899, measured
/// from outside, benchmarks README "How much the boundary signal says").
/// </para>
/// <para>
/// The factor is the odds that a disagreement is the model's error rather than the neighbours', with rare independent
/// errors <c>e_model / e_neighbours</c>, at most 1:
/// <code>
/// A_k = the neighbours' accuracy on the held-out training records (the plurality of each one's k neighbours, itself left out, is its label)
/// G   = the share of production records (with a predicted class) whose neighbours' plurality is the predicted class
/// W   = (1 - A_k) / (C - 1)              the chance that the neighbours pick one given wrong class, C classes
/// A_m = (G - W) / (A_k - W)              the model's accuracy: G = A_m A_k + (1 - A_m) W when the two err independently
/// factor = min(1, (1 - A_m) / (1 - A_k))
/// </code>
/// Two classifiers' agreement on unlabelled data tells their accuracies apart once one of them is known (Platanios et
/// al. 2014); here the neighbours' is measured on the labelled held-out slice. Errors that the two share (the same hard
/// inputs) raise <c>G</c> and so the estimated <c>A_m</c>, which lowers the factor: the estimate leans towards the
/// model's own probabilities. A shifted production stream, on which both classifiers err more, lowers <c>G</c> and
/// raises the factor, towards the full weight the signal had before. Neighbours no better than chance
/// (<c>A_k &lt;= W</c>) say nothing about the model's errors: factor 0. Neighbours without an error on the held-out
/// slice: factor 1.
/// </para>
/// </remarks>
internal static class BoundaryReliability
{
    /// <summary>The fewest production records with a predicted class the agreement is measured on; fewer: factor 1.</summary>
    public const int MinimumAgreementRows = 100;

    /// <summary>
    /// Whether the plurality of a record's neighbours is its reference class (counts a tie with the strongest other class
    /// as half).
    /// </summary>
    /// <param name="neighbors">The record's neighbour signals, measured against the reference class.</param>
    public static double Agrees(NeighborSignals neighbors)
    {
        var agreeing = (int)Math.Round((1 - neighbors.Disagreement) * neighbors.NeighborCount);
        return Agrees(agreeing, neighbors.DominantOtherCount);
    }

    /// <summary>
    /// Whether a class with <paramref name="agreeing"/> neighbours is their plurality against the strongest other class
    /// (<paramref name="strongestOther"/> neighbours): 1, 0.5 on a tie (with at least one), else 0.
    /// </summary>
    public static double Agrees(int agreeing, int strongestOther) =>
        agreeing > strongestOther ? 1 : agreeing == strongestOther && agreeing > 0 ? 0.5 : 0;

    /// <summary>The factor (see the remarks).</summary>
    /// <param name="neighborAccuracy"><c>A_k</c>: the neighbours' accuracy on the held-out training records, 0 to 1.</param>
    /// <param name="agreement"><c>G</c>: the share of production records whose neighbours' plurality is their predicted class, 0 to 1.</param>
    /// <param name="classes"><c>C</c>: the number of training classes.</param>
    public static double Factor(double neighborAccuracy, double agreement, int classes)
    {
        if (!(neighborAccuracy is >= 0 and <= 1) || !(agreement is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(neighborAccuracy), $"accuracy {neighborAccuracy} and agreement {agreement} must lie in 0..1.");
        }

        if (classes < 2 || neighborAccuracy >= 1)
        {
            return 1;
        }

        var chance = (1 - neighborAccuracy) / (classes - 1);
        if (neighborAccuracy <= chance)
        {
            return 0;
        }

        var modelAccuracy = Math.Clamp((agreement - chance) / (neighborAccuracy - chance), 0, 1);
        return Math.Min(1, (1 - modelAccuracy) / (1 - neighborAccuracy));
    }
}
