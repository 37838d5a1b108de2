namespace Chroma.Tests.Options;

[TestFixture]
public sealed class MaxBatchBytesValidationTests
{
    [TestCase(0)]
    [TestCase(1023)]
    [TestCase((64 * 1024 * 1024) + 1)]
    public void Validate_MaxBatchBytesOutOfRange_ThrowsNamingIt(int value)
    {
        var options = new ChromaClientOptions { MaxBatchBytes = value };

        var ex = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

        Assert.That(ex!.ParamName, Is.EqualTo(nameof(ChromaClientOptions.MaxBatchBytes)));
    }

    [TestCase(1024)]
    [TestCase(64 * 1024 * 1024)]
    public void Validate_MaxBatchBytesInRange_Passes(int value) =>
        Assert.DoesNotThrow(new ChromaClientOptions { MaxBatchBytes = value }.Validate);

    [Test]
    public void MaxBatchBytes_Default_IsFourMiB() =>
        Assert.That(new ChromaClientOptions().MaxBatchBytes, Is.EqualTo(4 * 1024 * 1024));
}
