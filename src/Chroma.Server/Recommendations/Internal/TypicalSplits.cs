using System.Numerics.Tensors;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Orders unit vectors so that every prefix of k picks holds the most typical row of each of k regions that split the
/// rows by mass: TypiClust's selection (Hacohen et al. 2022: one pick per cluster, the one of highest typicality) made
/// prefix-stable by growing the clusters one split at a time instead of clustering anew for every budget.
/// </summary>
/// <remarks>
/// <para>
/// Typicality of a row is <c>1 / mean distance to its <see cref="Neighbours"/> nearest clients</c> (TypiClust's
/// density estimate with its k = 20), computed once against a client sample. The first pick is the most typical row
/// of all. Each next step splits the region with the most rows in two (2-means, seeded with the region's pick and the
/// member farthest from it, <see cref="Iterations"/> Lloyd steps): the half that holds the region's pick keeps it, the
/// other half's most typical row is the new pick. So picks follow the mass of the pool (a region of twice the rows is
/// split about twice as often) and each is a dense, central member of its region, never an edge case; earlier picks
/// never change, so the first k entries are the batch for a budget of k.
/// </para>
/// <para>
/// Cost: typicality <c>rows x clients x dimension</c> once; each split <c>Iterations x size x dimension</c>.
/// </para>
/// </remarks>
internal static class TypicalSplits
{
    /// <summary>Neighbours in the typicality estimate: 20, TypiClust's value.</summary>
    public const int Neighbours = 20;

    /// <summary>Lloyd iterations per split: 10 (two centres converge in a few).</summary>
    public const int Iterations = 10;

    /// <summary>Returns up to <paramref name="count"/> picks in order, each with the rows it absorbed as near-duplicates.</summary>
    /// <param name="units">Row-major unit vectors, <paramref name="dimension"/> wide.</param>
    /// <param name="dimension">Width of a row.</param>
    /// <param name="clients">Rows whose distances estimate the density.</param>
    /// <param name="tieRank">Tie-break per row: the lower goes first.</param>
    /// <param name="count">Most picks.</param>
    /// <param name="duplicateDistance">Rows within this distance of a pick are absorbed into it and never picked.</param>
    public static List<(int Row, List<int> Duplicates)> Order(
        float[] units, int dimension, int[] clients, int[] tieRank, int count, double duplicateDistance)
    {
        var rows = units.Length / dimension;
        var picks = new List<(int, List<int>)>();
        if (rows == 0 || count <= 0)
        {
            return picks;
        }

        var typicality = Typicality(units, dimension, clients);
        var taken = new bool[rows];
        var duplicate2 = duplicateDistance * duplicateDistance;

        // Regions: their members (not taken) and their pick.
        var regions = new List<(List<int> Members, int Pick)>();
        var all = Enumerable.Range(0, rows).ToList();
        var first = MostTypical(all, typicality, tieRank);
        Take(first, all);
        regions.Add((all, first));
        while (picks.Count < count)
        {
            var largest = -1;
            for (var r = 0; r < regions.Count; r++)
            {
                if (regions[r].Members.Count >= 2 && (largest < 0 || regions[r].Members.Count > regions[largest].Members.Count))
                {
                    largest = r;
                }
            }

            if (largest < 0)
            {
                break;
            }

            var (members, pick) = regions[largest];
            var (kept, other) = Split(units, dimension, members, pick);
            var free = other.Where(i => !taken[i]).ToList();
            if (free.Count == 0)
            {
                // The far half holds only picks and their duplicates: drop it; a region that did not split stops.
                regions[largest] = (other.Count == 0 ? [pick] : kept, pick);
                continue;
            }

            var next = MostTypical(free, typicality, tieRank);
            Take(next, other);
            regions[largest] = (kept, pick);
            regions.Add((other, next));
        }

        return picks;

        void Take(int row, List<int> region)
        {
            taken[row] = true;
            var pick = units.AsSpan(row * dimension, dimension);
            var duplicates = new List<int>();
            foreach (var j in region)
            {
                if (!taken[j] && Math.Max(0, 2 - (2 * (double)TensorPrimitives.Dot(pick, units.AsSpan(j * dimension, dimension)))) <= duplicate2)
                {
                    taken[j] = true;
                    duplicates.Add(j);
                }
            }

            picks.Add((row, duplicates));
        }
    }

    private static int MostTypical(List<int> members, double[] typicality, int[] tieRank)
    {
        var best = members[0];
        foreach (var i in members)
        {
            if (typicality[i] > typicality[best] || (typicality[i] == typicality[best] && tieRank[i] < tieRank[best]))
            {
                best = i;
            }
        }

        return best;
    }

    private static double[] Typicality(float[] units, int dimension, int[] clients)
    {
        var rows = units.Length / dimension;
        var k = Math.Min(Neighbours, Math.Max(1, clients.Length - 1));
        var result = new double[rows];
        Parallel.For(0, rows, new ParallelOptions { MaxDegreeOfParallelism = rows >= 256 ? -1 : 1 }, i =>
        {
            var row = units.AsSpan(i * dimension, dimension);
            var nearest = new double[k];
            Array.Fill(nearest, double.PositiveInfinity);
            foreach (var c in clients)
            {
                if (c == i)
                {
                    continue;
                }

                var distance = Math.Sqrt(Math.Max(0, 2 - (2 * (double)TensorPrimitives.Dot(row, units.AsSpan(c * dimension, dimension)))));
                if (distance < nearest[k - 1])
                {
                    var p = k - 1;
                    while (p > 0 && nearest[p - 1] > distance)
                    {
                        nearest[p] = nearest[p - 1];
                        p--;
                    }

                    nearest[p] = distance;
                }
            }

            var mean = nearest.Where(double.IsFinite).DefaultIfEmpty(Math.Sqrt(2)).Average();
            result[i] = 1 / (mean + 1e-9);
        });

        return result;
    }

    // 2-means of the members, seeded with the region's pick and the member farthest from it; returns (pick's half, other half).
    private static (List<int> Kept, List<int> Other) Split(float[] units, int dimension, List<int> members, int pick)
    {
        var a = units.AsSpan(pick * dimension, dimension).ToArray();
        var farthest = members[0];
        var farthestDot = double.PositiveInfinity;
        foreach (var i in members)
        {
            var dot = TensorPrimitives.Dot(a, units.AsSpan(i * dimension, dimension));
            if (dot < farthestDot)
            {
                farthestDot = dot;
                farthest = i;
            }
        }

        var b = units.AsSpan(farthest * dimension, dimension).ToArray();
        var inA = new bool[members.Count];
        for (var iteration = 0; iteration < Iterations; iteration++)
        {
            var changed = false;
            for (var m = 0; m < members.Count; m++)
            {
                var row = units.AsSpan(members[m] * dimension, dimension);
                var closerToA = TensorPrimitives.Distance(row, a) <= TensorPrimitives.Distance(row, b);
                changed |= closerToA != inA[m] || iteration == 0;
                inA[m] = closerToA;
            }

            if (!changed)
            {
                break;
            }

            Array.Clear(a);
            Array.Clear(b);
            int countA = 0, countB = 0;
            for (var m = 0; m < members.Count; m++)
            {
                var row = units.AsSpan(members[m] * dimension, dimension);
                if (inA[m])
                {
                    TensorPrimitives.Add(a, row, a);
                    countA++;
                }
                else
                {
                    TensorPrimitives.Add(b, row, b);
                    countB++;
                }
            }

            if (countA == 0 || countB == 0)
            {
                break;
            }

            TensorPrimitives.Divide(a, countA, a);
            TensorPrimitives.Divide(b, countB, b);
        }

        var pickIndex = members.IndexOf(pick);
        var pickSide = pickIndex < 0 || inA[pickIndex];
        var kept = new List<int>();
        var other = new List<int>();
        for (var m = 0; m < members.Count; m++)
        {
            (inA[m] == pickSide ? kept : other).Add(members[m]);
        }

        return (kept, other);
    }
}
