namespace Chroma.Server.Recommendations;

/// <summary>
/// A second, more exact neighbour search for the records whose neighbour signals lie in the tail the reasons speak of,
/// so that a reason such as "neighbours disagree: 6 of 10 are class 4" names the neighbours a <c>FindNearest</c> with
/// <c>exact = true</c> on the training records returns.
/// </summary>
/// <remarks>
/// <para>
/// Above <c>Chroma:Indexing:ExactSearchThreshold</c> training rows the signals search an HNSW graph. On the typical
/// record that changes little (the signals are a mean and a share over k neighbours), but the records that top the
/// rankings are outliers, where approximate search misses most: an outside client found 10-16% of a top 100's
/// neighbour reasons differing from the exact neighbours at 5,000 training rows; on clustered embeddings another found
/// most of the boundary reasons shown at 8,000-20,000 training rows wrong ("10 of 10 are class 1" where the exact
/// neighbours held 1), because the graph search had landed in another cluster, which is what made the record look as
/// if it sat on a boundary. A broader graph search did not fix that (57% still wrong at 20,000 x 384); an exact one did.
/// </para>
/// <para>
/// A record is searched again when its first search puts its mean neighbour distance at or above
/// <see cref="MeanDistanceFrom"/>, or its neighbour disagreement at or above <see cref="DisagreementFrom"/> (and above
/// zero): the <see cref="TailQuantile"/> of the held-out training records' first searches, so about one record in
/// twenty of normal traffic per signal, and the records whose p-value for either is about 0.05 or less. The held-out
/// records follow the same rule before the signals are calibrated, so calibration and scoring measure alike. The second
/// search scans every row when the search holds at most <see cref="ExactMaxFloats"/> floats (rows times dimension), for
/// the tail records of a chunk together (<see cref="SearchMany"/>: each block of rows is read once for all of them), and
/// otherwise searches the graph <see cref="DeeperFactor"/> times as broadly. On the <c>recs</c> benchmark (20,000
/// production records of 128 dimensions, CPU seconds on a loaded 2-core machine) the full pass took 7.6 s instead of 6.3
/// at 30,000 training rows and 12.0 instead of 7.8 at 100,000, the fit 48.8 s instead of 39.0; there the first search's
/// recall@10 is 0.78 and 0.63, and about one query in ten is in the tail.
/// </para>
/// </remarks>
/// <param name="Search">The second search: exact, or a broader search of the same graph.</param>
/// <param name="MeanDistanceFrom">The first search's mean neighbour distance from which a record is searched again.</param>
/// <param name="DisagreementFrom">The first search's neighbour disagreement from which a record is searched again.</param>
internal sealed record NeighborRefinement(ITrainingNeighborSearch Search, double MeanDistanceFrom, double DisagreementFrom)
{
    /// <summary>The quantile of the held-out records' first measurements from which records are searched again.</summary>
    public const double TailQuantile = 0.95;

    /// <summary>The most floats (rows times dimension) the second search scans exactly: 64 MiB of rows (100,000 x 128, 20,000 x 768).</summary>
    public const long ExactMaxFloats = 16L << 20;

    /// <summary>How many times broader the second search of a graph too large to scan is.</summary>
    public const int DeeperFactor = 4;

    /// <summary>
    /// The refinement of <paramref name="search"/> over <paramref name="rows"/> (row-major, as the search was built), with
    /// thresholds from <paramref name="heldOut"/>, the held-out records' first measurements; null when the search is exact
    /// already or there is nothing held out. The second search scans exactly up to <paramref name="exactMaxFloats"/> floats.
    /// </summary>
    public static NeighborRefinement? For(
        ITrainingNeighborSearch search,
        float[] rows,
        int dimension,
        NeighborMetric metric,
        IReadOnlyList<NeighborSignals> heldOut,
        long exactMaxFloats = ExactMaxFloats)
    {
        ArgumentNullException.ThrowIfNull(search);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(heldOut);
        if (search.IsExact || heldOut.Count == 0)
        {
            return null;
        }

        var second = rows.LongLength <= exactMaxFloats ? new BruteForceNeighborSearch(rows, dimension, metric) : search.Broader(DeeperFactor);
        return new NeighborRefinement(
            second,
            Quantile(heldOut.Select(n => n.MeanDistance), TailQuantile),
            Quantile(heldOut.Select(n => n.Disagreement), TailQuantile));
    }

    /// <summary>
    /// The <paramref name="k"/> nearest rows of each of the row-major <paramref name="queries"/> (<paramref name="dimension"/>
    /// floats each) by the second search: an exact scan reads each block of training rows once for every query.
    /// </summary>
    public IReadOnlyList<(int TrainingIndex, float Distance)>[] SearchMany(float[] queries, int dimension, int k)
    {
        ArgumentNullException.ThrowIfNull(queries);
        if (Search is BruteForceNeighborSearch scan)
        {
            return scan.SearchMany(queries, k);
        }

        var found = new IReadOnlyList<(int TrainingIndex, float Distance)>[queries.Length / dimension];
        for (var q = 0; q < found.Length; q++)
        {
            found[q] = Search.Search(queries.AsSpan(q * dimension, dimension), k);
        }

        return found;
    }

    /// <summary>Whether a record whose first search found <paramref name="first"/> is searched again.</summary>
    public bool Applies(NeighborSignals first) =>
        !(first.MeanDistance < MeanDistanceFrom) || (first.Disagreement > 0 && first.Disagreement >= DisagreementFrom);

    // The q-quantile (lower) of the values, NaN (an overflowed distance) counting as +infinity.
    private static double Quantile(IEnumerable<double> values, double q)
    {
        var sorted = values.Select(v => double.IsNaN(v) ? double.PositiveInfinity : v).ToArray();
        Array.Sort(sorted);
        return sorted[(int)Math.Floor(q * (sorted.Length - 1))];
    }
}
