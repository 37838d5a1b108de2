namespace Chroma.Tests.Options;

[TestFixture]
public sealed class ApiKeyValidationTests
{
    [TestCase("abc\ndef")]
    [TestCase("abc\rdef")]
    [TestCase("abc\tdef")]
    [TestCase("abc\0def")]
    [TestCase("clé-secrète")]
    [TestCase(" padded")]
    [TestCase("padded ")]
    public void Validate_ApiKeyNotAHeaderValue_ThrowsNamingApiKeyWithoutTheKey(string apiKey)
    {
        // Arrange
        var options = new ChromaClientOptions { Endpoint = new Uri("http://127.0.0.1:1"), ApiKey = apiKey };

        // Act
        var ex = Assert.Throws<ArgumentException>(options.Validate);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ex!.ParamName, Is.EqualTo(nameof(ChromaClientOptions.ApiKey)));
            Assert.That(ex.Message, Does.Contain(nameof(ChromaClientOptions.ApiKey)));
            Assert.That(ex.Message, Does.Not.Contain(apiKey.Trim()), "the key is a secret");
        });
    }

    [Test]
    public void Constructor_ApiKeyWithLineBreak_Throws()
    {
        // Arrange
        var options = new ChromaClientOptions { Endpoint = new Uri("http://127.0.0.1:1"), ApiKey = "abc\ndef" };

        // Act + Assert
        Assert.Throws<ArgumentException>(() => _ = new ChromaClient(options));
    }

    [TestCase("")]
    [TestCase("k3y with inner spaces")]
    [TestCase("AZaz09-._~+/=!#$%&'*")]
    public void Validate_PrintableAsciiApiKey_Passes(string apiKey)
    {
        // Arrange
        var options = new ChromaClientOptions { Endpoint = new Uri("http://127.0.0.1:1"), ApiKey = apiKey };

        // Act + Assert
        Assert.DoesNotThrow(options.Validate);
    }
}
