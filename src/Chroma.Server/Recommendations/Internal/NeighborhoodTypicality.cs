using System.Numerics.Tensors;

namespace Chroma.Server.Recommendations;

/// <summary>
/// TypiClust's typicality (Hacohen et al. 2022) of unit vectors: the inverse of a row's mean distance to its
/// <see cref="Neighbors"/> nearest rows, estimated from a sample of the rows (the neighbour count scaled by the
/// sample's share).
/// </summary>
internal static class NeighborhoodTypicality
{
    /// <summary>Neighbours whose mean distance measures a row's typicality: 20, as in TypiClust.</summary>
    public const int Neighbors = 20;

    /// <summary>Returns the typicality of each row of <paramref name="units"/>.</summary>
    /// <param name="units">Row-major unit vectors, <paramref name="dimension"/> wide.</param>
    /// <param name="dimension">Width of a row.</param>
    /// <param name="sample">Rows (indices into <paramref name="units"/>) the neighbours are looked for among.</param>
    public static double[] Of(float[] units, int dimension, int[] sample)
    {
        var rows = units.Length / dimension;
        var k = Math.Clamp((int)Math.Round(Neighbors * (double)sample.Length / Math.Max(1, rows)), 1, Math.Max(1, sample.Length - 1));
        var result = new double[rows];
        Parallel.For(0, rows, j =>
        {
            var row = units.AsSpan(j * dimension, dimension);
            var distances = new double[sample.Length];
            for (var s = 0; s < sample.Length; s++)
            {
                distances[s] = sample[s] == j
                    ? double.PositiveInfinity
                    : Math.Sqrt(Math.Max(0, 2 - (2 * (double)TensorPrimitives.Dot(row, units.AsSpan(sample[s] * dimension, dimension)))));
            }

            Array.Sort(distances);
            var mean = distances.Take(k).Where(double.IsFinite).DefaultIfEmpty(0).Average();
            result[j] = 1 / (mean + 1e-6);
        });
        return result;
    }
}
