using System.Numerics.Tensors;

namespace Chroma.Server.Web.Internal;

/// <summary>
/// A linear map onto the top principal subspace of a sample (an orthonormal basis of it, found by randomized
/// block power iteration), so that nearest-neighbour distances are computed in a few dozen dimensions instead of
/// hundreds. Distances inside the subspace do not depend on which basis spans it, so no eigenvectors are needed.
/// Data of at most <see cref="MaxDimension"/> dimensions are only centred.
/// </summary>
internal sealed class SubspaceReduction
{
    /// <summary>The most dimensions kept.</summary>
    public const int MaxDimension = 32;

    private const int PowerIterations = 4;

    private readonly float[] _mean;
    private readonly float[][]? _basis; // MaxDimension rows of the input dimension; null: identity

    private SubspaceReduction(float[] mean, float[][]? basis)
    {
        _mean = mean;
        _basis = basis;
        Dimension = basis?.Length ?? mean.Length;
    }

    /// <summary>Gets the reduced dimension.</summary>
    public int Dimension { get; }

    /// <summary>Fits the subspace of <paramref name="rows"/> (equal lengths, at least one row).</summary>
    public static SubspaceReduction Fit(IReadOnlyList<float[]> rows, Random random)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(random);
        var dimension = rows[0].Length;
        var mean = new float[dimension];
        foreach (var row in rows)
        {
            TensorPrimitives.Add(mean, row, mean);
        }

        TensorPrimitives.Divide(mean, rows.Count, mean);
        if (dimension <= MaxDimension)
        {
            return new SubspaceReduction(mean, null);
        }

        var centered = rows.Select(r =>
        {
            var c = new float[dimension];
            TensorPrimitives.Subtract(r, mean, c);
            return c;
        }).ToArray();

        // Start from random directions; each step (X^T X) v pulls them toward the dominant subspace.
        var basis = new float[MaxDimension][];
        for (var k = 0; k < MaxDimension; k++)
        {
            basis[k] = new float[dimension];
            for (var i = 0; i < dimension; i++)
            {
#pragma warning disable CA5394 // Seeded for a reproducible map, not security.
                basis[k][i] = (float)(random.NextDouble() - 0.5);
#pragma warning restore CA5394
            }
        }

        Orthonormalize(basis);
        var scores = new float[centered.Length];
        for (var iteration = 0; iteration < PowerIterations; iteration++)
        {
            for (var k = 0; k < MaxDimension; k++)
            {
                var next = new float[dimension];
                for (var r = 0; r < centered.Length; r++)
                {
                    scores[r] = TensorPrimitives.Dot(centered[r], basis[k]);
                }

                for (var r = 0; r < centered.Length; r++)
                {
                    TensorPrimitives.MultiplyAdd(centered[r], scores[r], next, next);
                }

                basis[k] = next;
            }

            Orthonormalize(basis);
        }

        return new SubspaceReduction(mean, basis);
    }

    /// <summary>Writes the reduced coordinates of <paramref name="embedding"/> into <paramref name="destination"/>.</summary>
    public void Reduce(ReadOnlySpan<float> embedding, Span<float> destination)
    {
        if (_basis is null)
        {
            TensorPrimitives.Subtract(embedding, _mean, destination);
            return;
        }

        Span<float> centered = embedding.Length <= 1024 ? stackalloc float[embedding.Length] : new float[embedding.Length];
        TensorPrimitives.Subtract(embedding, _mean, centered);
        for (var k = 0; k < _basis.Length; k++)
        {
            destination[k] = TensorPrimitives.Dot(centered, _basis[k]);
        }
    }

    // Modified Gram-Schmidt; a direction that vanishes (rank-deficient data) stays zero and adds nothing to distances.
    private static void Orthonormalize(float[][] vectors)
    {
        for (var k = 0; k < vectors.Length; k++)
        {
            for (var j = 0; j < k; j++)
            {
                TensorPrimitives.MultiplyAdd(vectors[j], -TensorPrimitives.Dot(vectors[k], vectors[j]), vectors[k], vectors[k]);
            }

            var norm = TensorPrimitives.Norm(vectors[k]);
            if (norm > 1e-12f)
            {
                TensorPrimitives.Divide(vectors[k], norm, vectors[k]);
            }
            else
            {
                Array.Clear(vectors[k]);
            }
        }
    }
}
