using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class IdxReaderTests
{
    private static string DataDirectory => LetterVsDigitExperiment.FindDataDirectory(TestContext.CurrentContext.TestDirectory);

    [Test]
    public void ReadImages_MnistFile_Reads28By28PixelsScaledToUnitRange()
    {
        var (pixels, count, perImage) = IdxReader.ReadImages(Path.Combine(DataDirectory, "mnist-t10k-images-idx3-ubyte.gz"), 10);

        Assert.That(count, Is.EqualTo(10));
        Assert.That(perImage, Is.EqualTo(784));
        Assert.That(pixels, Has.Length.EqualTo(7840));
        Assert.That(pixels.Min(), Is.EqualTo(0));
        Assert.That(pixels.Max(), Is.LessThanOrEqualTo(1).And.GreaterThan(0.9f));
    }

    [Test]
    public void ReadLabels_MnistFile_ReadsDigits()
    {
        var labels = IdxReader.ReadLabels(Path.Combine(DataDirectory, "mnist-t10k-labels-idx1-ubyte.gz"));

        Assert.That(labels, Has.Length.EqualTo(10_000));
        Assert.That(labels.Distinct().Order(), Is.EqualTo(Enumerable.Range(0, 10).Select(i => (byte)i)));
    }

    [Test]
    public void ReadImages_LabelFile_ThrowsOnWrongMagic()
    {
        Assert.That(
            () => IdxReader.ReadImages(Path.Combine(DataDirectory, "mnist-t10k-labels-idx1-ubyte.gz")),
            Throws.InstanceOf<InvalidDataException>().With.Message.Contains("magic"));
    }
}
