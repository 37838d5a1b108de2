using Chroma.Server.Validation;

namespace Chroma.Server.Tests.Validation;

[TestFixture]
public sealed class FiniteValuesTests
{
    private static readonly float[] NonFinite = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, BitConverter.Int32BitsToSingle(unchecked((int)0xFFC0_0001))];

    /// <summary>Lengths around every vector width (4, 8, 16 floats), so the bad value sits in a block and in the tail.</summary>
    private static readonly int[] Lengths = [1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 128, 131, 784];

    [Test]
    public void IndexOfNonFinite_OneBadValueAtAnyPosition_ReturnsThatPosition()
    {
        foreach (var length in Lengths)
        {
            foreach (var bad in NonFinite)
            {
                for (var at = 0; at < length; at++)
                {
                    // Arrange
                    var values = Ordinary(length);
                    values[at] = bad;

                    // Act
                    var index = FiniteValues.IndexOfNonFinite(values);

                    // Assert
                    Assert.That(index, Is.EqualTo(at), $"length {length}, value {bad}, position {at}");
                }
            }
        }
    }

    [Test]
    public void IndexOfNonFinite_TwoBadValues_ReturnsTheFirst()
    {
        // Arrange: one bad value in the tail block and an earlier one in the middle of the vector.
        var values = Ordinary(131);
        values[129] = float.NaN;
        values[77] = float.PositiveInfinity;

        // Act
        var index = FiniteValues.IndexOfNonFinite(values);

        // Assert
        Assert.That(index, Is.EqualTo(77));
    }

    [Test]
    public void IndexOfNonFinite_ExtremeFiniteValues_ReturnsMinusOne()
    {
        // Arrange: the largest, smallest, subnormal and signed-zero values are all finite.
        float[] values = [float.MaxValue, float.MinValue, float.Epsilon, -float.Epsilon, 0f, -0f, 1e-40f, -3.4e38f, 1f, -1f, 0.5f];

        foreach (var length in Lengths)
        {
            // Act
            var index = FiniteValues.IndexOfNonFinite(Enumerable.Range(0, length).Select(i => values[i % values.Length]).ToArray());

            // Assert
            Assert.That(index, Is.EqualTo(-1), $"length {length}");
        }
    }

    [Test]
    public void IndexOfOutOfRange_ValuesFrom2Pow50Up_ReturnsTheirPosition()
    {
        // A value this large makes squared distances overflow float to infinity (a scoring pass then fails for the whole set).
        float[] tooLarge = [FiniteValues.MaxEmbeddingMagnitude, -FiniteValues.MaxEmbeddingMagnitude, 1e19f, float.MaxValue, float.MinValue, .. NonFinite];
        foreach (var length in Lengths)
        {
            foreach (var bad in tooLarge)
            {
                // Arrange
                var values = Ordinary(length);
                values[length / 2] = bad;

                // Act
                var index = FiniteValues.IndexOfOutOfRange(values);

                // Assert
                Assert.That(index, Is.EqualTo(length / 2), $"length {length}, value {bad}");
            }
        }
    }

    [Test]
    public void IndexOfOutOfRange_LargeButAllowedValues_ReturnsMinusOne()
    {
        // Arrange: just below 2^50, subnormals, zeros and ordinary values.
        float[] values = [BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(FiniteValues.MaxEmbeddingMagnitude) - 1), -1e15f, 1e15f, float.Epsilon, -0f, 0f, 1f, -123456.7f];

        foreach (var length in Lengths)
        {
            // Act
            var index = FiniteValues.IndexOfOutOfRange(Enumerable.Range(0, length).Select(i => values[i % values.Length]).ToArray());

            // Assert
            Assert.That(index, Is.EqualTo(-1), $"length {length}");
        }
    }

    [Test]
    public void ValidateEmbedding_HugeFiniteValue_NamesPositionValueAndLimit()
    {
        // Arrange
        var values = Ordinary(20);
        values[17] = 3e38f;

        // Act
        var error = FiniteValues.ValidateEmbedding(values, "records[3].embedding", 3);

        // Assert
        Assert.That(error?.Message, Is.EqualTo(
            "records[3].embedding[17]: value 3E+38 is too large: embedding values must be below 2^50 (about 1.1e15) in magnitude, so squared distances stay finite"));
        Assert.That(error?.RecordIndex, Is.EqualTo(3));
    }

    [Test]
    public void IndexOfNonFinite_Empty_ReturnsMinusOne()
    {
        // Act
        var index = FiniteValues.IndexOfNonFinite([]);

        // Assert
        Assert.That(index, Is.EqualTo(-1));
    }

    [Test]
    public void Validate_InfinityInTheMiddle_NamesFieldPositionAndKind()
    {
        // Arrange
        var values = Ordinary(128);
        values[100] = float.NegativeInfinity;

        // Act
        var error = FiniteValues.Validate(values, "embedding.values");

        // Assert
        Assert.That(error?.Message, Is.EqualTo("embedding.values[100]: value is infinite"));
    }

    private static float[] Ordinary(int length) => Enumerable.Range(0, length).Select(i => (i % 7) - 3.5f).ToArray();
}
