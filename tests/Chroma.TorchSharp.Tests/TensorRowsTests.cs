using NUnit.Framework;
using Chroma.Tests.TorchSharp.Support;
using Chroma.TorchSharp.Internal;
using static TorchSharp.torch;

namespace Chroma.Tests.TorchSharp;

[TestFixture]
[Category("torch")]
public sealed class TensorRowsTests
{
    [OneTimeSetUp]
    public void RequireTorch() => TorchNative.RequireLoaded();

    [Test]
    public void CopyTo_TransposedDoubleTensor_CopiesRowsAsFloat()
    {
        using var source = tensor(new double[] { 1, 2, 3, 4, 5, 6 }).reshape(3, 2);
        using var transposed = source.t(); // [[1,3,5],[2,4,6]], not contiguous
        var buffer = Array.Empty<float>();

        TensorRows.CopyTo(transposed, ref buffer, out var rows, out var width);

        Assert.That((rows, width), Is.EqualTo((2, 3)));
        Assert.That(buffer[..6], Is.EqualTo(new float[] { 1, 3, 5, 2, 4, 6 }));
    }

    [Test]
    public void CopyTo_ContiguousViewWithOffset_CopiesOnlyTheViewedRows()
    {
        using var source = arange(12, dtype: ScalarType.Float32).reshape(4, 3);
        using var view = source.narrow(0, 1, 2); // rows 1 and 2: contiguous, storage offset 3
        var buffer = Array.Empty<float>();

        TensorRows.CopyTo(view, ref buffer, out var rows, out var width);

        Assert.That((rows, width), Is.EqualTo((2, 3)));
        Assert.That(buffer[..6], Is.EqualTo(new float[] { 3, 4, 5, 6, 7, 8 }));
    }

    [Test]
    public void CopyTo_ImageBatch_FlattensTrailingDimensionsIntoWidth()
    {
        using var images = arange(24, dtype: ScalarType.Float32).reshape(2, 3, 4);
        var buffer = new float[100];

        TensorRows.CopyTo(images, ref buffer, out var rows, out var width);

        Assert.That((rows, width), Is.EqualTo((2, 12)));
        Assert.That(buffer[12], Is.EqualTo(12f));
        Assert.That(buffer, Has.Length.EqualTo(100), "a long enough buffer is reused");
    }

    [Test]
    public void CopyTo_TensorRequiringGrad_DoesNotTouchItsGraph()
    {
        using var weights = ones(2, 2, requires_grad: true);
        using var output = weights * 3;
        var buffer = Array.Empty<float>();

        TensorRows.CopyTo(output, ref buffer, out _, out _);
        output.sum().backward();

        Assert.That(weights.grad!.data<float>().ToArray(), Is.EqualTo(new float[] { 3, 3, 3, 3 }));
        Assert.That(buffer[..4], Is.EqualTo(new float[] { 3, 3, 3, 3 }));
    }

    [Test]
    public void CopyTo_Scalar_ThrowsForMissingBatchDimension()
    {
        using var scalar = tensor(1f);
        var buffer = Array.Empty<float>();

        Assert.Throws<ArgumentException>(() => TensorRows.CopyTo(scalar, ref buffer, out _, out _));
    }

    [Test]
    public void Softmax_LargeLogits_StaysFiniteAndSumsToOne()
    {
        float[] logits = [1000f, 999f, -1000f];
        var probabilities = new float[3];

        ClassScores.Softmax(logits, probabilities);

        Assert.That(probabilities, Has.All.Not.NaN);
        Assert.That(probabilities.Sum(), Is.EqualTo(1f).Within(1e-6f));
        Assert.That(probabilities[0], Is.EqualTo(1f / (1f + MathF.Exp(-1f))).Within(1e-6f));
    }

    [Test]
    public void ArgMax_Ties_ReturnsTheFirstIndex()
    {
        Assert.That(ClassScores.ArgMax([0.2f, 0.7f, 0.7f, 0.1f]), Is.EqualTo(1));
    }
}
