using Chroma.Internal;
using Chroma.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.Collections;

namespace Chroma.Tests.Internal;

[TestFixture]
public sealed class RepeatedFieldsTests
{
    [Test]
    public void Append_AfterExistingValues_KeepsThemAndAddsTheSpanInOrder()
    {
        // Arrange
        var field = new RepeatedField<float> { 1f, 2f };
        float[] values = [3f, float.Epsilon, -0f, 6.5f];

        // Act
        RepeatedFields.Append(field, values);

        // Assert: bit for bit (-0 and the subnormal included).
        Assert.That(field.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(new[] { 1f, 2f, 3f, float.Epsilon, -0f, 6.5f }.Select(BitConverter.SingleToInt32Bits)));
    }

    [Test]
    public void Append_Embedding_SerializesLikeAddingEachValue()
    {
        // Arrange: the wire bytes of a record filled by the block copy and by Add per value must be identical.
        var random = new Random(7);
        var embedding = Enumerable.Range(0, 131).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var copied = new Record { Id = "id" };
        var added = new Record { Id = "id" };

        // Act
        RepeatedFields.Append(copied.Embedding, embedding);
        foreach (var value in embedding)
        {
            added.Embedding.Add(value);
        }

        // Assert
        Assert.That(copied.ToByteArray(), Is.EqualTo(added.ToByteArray()));
    }

    [Test]
    public void Append_Empty_LeavesTheFieldUnchanged()
    {
        // Arrange
        var field = new RepeatedField<float> { 1f };

        // Act
        RepeatedFields.Append(field, ReadOnlySpan<float>.Empty);

        // Assert
        Assert.That(field, Is.EqualTo(new[] { 1f }));
    }
}
