using System.Numerics.Tensors;
using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// The one definition of a direction under the cosine metric (<see cref="UnitVector"/>): any finite vector with a
/// non-zero value gets a unit vector, however small (float32 denormals) or large its values; only all zeros has none.
/// </summary>
[TestFixture]
public sealed class UnitVectorTests
{
    private const float TwoTo50 = 1_125_899_906_842_624f;

    [TestCase(1e-30f)]
    [TestCase(1e-38f)]
    [TestCase(1e-45f)] // the smallest float32 denormal
    [TestCase(-1e-45f)]
    [TestCase(1f)]
    [TestCase(TwoTo50)]
    [TestCase(float.MaxValue)] // beyond the 2^50 bound: the float32 norm overflows
    public void TryNormalize_EveryValueTheSame_GivesTheUnitDiagonal(float value)
    {
        // Arrange
        var vector = Enumerable.Repeat(value, 8).ToArray();
        var unit = new float[8];

        // Act
        var hasDirection = UnitVector.TryNormalize(vector, unit);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(hasDirection, Is.True);
            Assert.That(unit, Has.All.EqualTo(MathF.Sign(value) / MathF.Sqrt(8)).Within(1e-6f));
            Assert.That(UnitVector.HasDirection(vector), Is.True);
        });
    }

    [Test]
    public void TryNormalize_DenormalsOfDifferentSizes_KeepsTheirRatio()
    {
        // Arrange: 1 and -2 units of the smallest denormal (1.4e-45), and a lone one among zeros.
        var mixed = new[] { float.Epsilon, -2 * float.Epsilon, 0f };
        var lone = new[] { 0f, 0f, 0f, float.Epsilon, 0f };

        // Act
        UnitVector.TryNormalize(mixed);
        UnitVector.TryNormalize(lone);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(mixed, Is.EqualTo(new[] { 1 / MathF.Sqrt(5), -2 / MathF.Sqrt(5), 0f }).Within(1e-6f));
            Assert.That(lone, Is.EqualTo(new[] { 0f, 0f, 0f, 1f, 0f }));
        });
    }

    [Test]
    public void TryNormalize_2To50AtALargeDimension_GivesAUnitVector()
    {
        // Arrange: the documented bound on embedding values, at 4,096 values.
        var vector = Enumerable.Range(0, 4096).Select(i => i % 2 == 0 ? TwoTo50 : -TwoTo50 / 2).ToArray();

        // Act
        var hasDirection = UnitVector.TryNormalize(vector);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(hasDirection, Is.True);
            Assert.That(TensorPrimitives.Norm(vector), Is.EqualTo(1f).Within(1e-5f));
            Assert.That(vector[0] / vector[1], Is.EqualTo(-2f).Within(1e-5f));
        });
    }

    [Test]
    public void TryNormalize_AllZerosWithNegativeZero_ReturnsFalseAndClearsTheDestination()
    {
        // Arrange
        float[] vector = [0f, -0f, 0f];
        float[] destination = [7f, 7f, 7f, 7f];

        // Act
        var hasDirection = UnitVector.TryNormalize(vector, destination);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(hasDirection, Is.False);
            Assert.That(UnitVector.HasDirection(vector), Is.False);
            Assert.That(UnitVector.HasDirection([]), Is.False);
            Assert.That(destination[..3], Is.EqualTo(new[] { 0f, 0f, 0f }));
            Assert.That(destination[3], Is.EqualTo(7f), "only the source's length is written");
        });
    }

    [Test]
    public void TryNormalize_OrdinaryVector_IsExactlyTheFloat32Division()
    {
        // Arrange: the hot path must stay the plain TensorPrimitives division, bit for bit.
        var random = new Random(5);
        var vector = Enumerable.Range(0, 37).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var expected = new float[37];
        TensorPrimitives.Divide(vector, TensorPrimitives.Norm(vector), expected);

        // Act
        UnitVector.TryNormalize(vector);

        // Assert
        Assert.That(vector, Is.EqualTo(expected));
    }

    [TestCase(1e-30f)]
    [TestCase(1e-45f)]
    public void HnswIndex_TinyVectorUnderCosine_IsAddedAndFoundByItsDirection(float tiny)
    {
        // Arrange
        using var index = new HnswIndex(new HnswOptions { Dimension = 3, Metric = HnswMetric.Cosine });
        index.Add(1, [1f, 0f, 0f]);
        index.Add(2, [0f, 1f, 0f]);

        // Act
        index.Add(3, [0f, tiny, tiny]);
        var byTiny = index.Search([0f, tiny, tiny], 3);
        var byDirection = index.Search([0f, 5f, 5f], 1);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(byTiny[0].Key, Is.EqualTo(3));
            Assert.That(byTiny[0].Distance, Is.EqualTo(0f).Within(1e-6f));
            Assert.That(byTiny.Select(r => r.Distance), Has.All.Matches<float>(float.IsFinite));
            Assert.That(byDirection[0].Key, Is.EqualTo(3));
        });
    }

    [TestCase(1e-30f)]
    [TestCase(1e-45f)]
    public void BruteForceVectorIndex_TinyVectorUnderCosine_IsAddedAndFoundByItsDirection(float tiny)
    {
        // Arrange
        var index = new BruteForceVectorIndex(3, HnswMetric.Cosine);
        index.Add(1, [1f, 0f, 0f], "training");
        index.Add(2, [0f, 1f, 0f], "training");

        // Act
        index.Add(3, [0f, tiny, tiny], "training");
        var byTiny = index.Search([0f, tiny, tiny], 3);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(byTiny[0].Sequence, Is.EqualTo(3));
            Assert.That(byTiny[0].Distance, Is.EqualTo(0f).Within(1e-6f));
            Assert.That(byTiny[1].Distance, Is.EqualTo(1 - (1 / MathF.Sqrt(2))).Within(1e-6f));
        });
    }
}
