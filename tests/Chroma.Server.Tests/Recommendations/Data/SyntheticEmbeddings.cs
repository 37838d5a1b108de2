namespace Chroma.Server.Tests.Recommendations.Data;

/// <summary>Seeded Gaussian embeddings with known structure for tests whose answer is known.</summary>
internal static class SyntheticEmbeddings
{
    /// <summary>Standard normal sample (Box-Muller).</summary>
    public static double NextGaussian(this Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>
    /// <paramref name="perClass"/> points around each of <paramref name="classes"/> centres
    /// (class c has centre <c>separation * e_c</c>) with unit isotropic noise; labels "0", "1", ...
    /// </summary>
    public static (float[] Embeddings, string[] Labels) Clusters(int classes, int perClass, int dimension, double separation, int seed)
    {
        var random = new Random(seed);
        var embeddings = new float[classes * perClass * dimension];
        var labels = new string[classes * perClass];
        for (var c = 0; c < classes; c++)
        {
            for (var p = 0; p < perClass; p++)
            {
                var row = (c * perClass) + p;
                labels[row] = c.ToString(System.Globalization.CultureInfo.InvariantCulture);
                for (var j = 0; j < dimension; j++)
                {
                    embeddings[(row * dimension) + j] = (float)(random.NextGaussian() + (j == c ? separation : 0));
                }
            }
        }

        return (embeddings, labels);
    }

    /// <summary><paramref name="count"/> isotropic Gaussian points around <paramref name="center"/> with standard deviation <paramref name="scale"/>.</summary>
    public static float[] Around(float[] center, int count, double scale, int seed)
    {
        var random = new Random(seed);
        var d = center.Length;
        var result = new float[count * d];
        for (var i = 0; i < count; i++)
        {
            for (var j = 0; j < d; j++)
            {
                result[(i * d) + j] = (float)(center[j] + (scale * random.NextGaussian()));
            }
        }

        return result;
    }

    /// <summary>A vector with <paramref name="value"/> in coordinate <paramref name="axis"/> and 0 elsewhere.</summary>
    public static float[] Axis(int dimension, int axis, float value)
    {
        var v = new float[dimension];
        v[axis] = value;
        return v;
    }

    /// <summary>
    /// Moves every row of <paramref name="embeddings"/> (in place) <paramref name="shift"/> units along
    /// (e2 + ... + e(d-1)) / sqrt(d - 2): for the two classes of <see cref="Clusters"/> (centres on e0 and e1), a
    /// direction with no class information. Returns the same array.
    /// </summary>
    public static float[] MoveOffTheClassAxes(float[] embeddings, int dimension, double shift)
    {
        var step = (float)(shift / Math.Sqrt(dimension - 2));
        for (var row = 0; row < embeddings.Length / dimension; row++)
        {
            for (var j = 2; j < dimension; j++)
            {
                embeddings[(row * dimension) + j] += step;
            }
        }

        return embeddings;
    }

    /// <summary>Ids "p0", "p1", ...</summary>
    public static string[] Ids(int count, string prefix = "p") =>
        Enumerable.Range(0, count).Select(i => prefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
}
