using Chroma.Server.Security;

namespace Chroma.Server.Tests.Security;

/// <summary>The start-up warning about a short API key: said with the key's length, never the key.</summary>
[TestFixture]
public sealed class ApiKeyStrengthTests
{
    [Test]
    public void Warning_ShortKey_NamesTheLengthAndTheSettingNotTheKey()
    {
        var warning = ApiKeyStrength.Warning("k3y-secret");

        Assert.That(warning, Does.StartWith("Chroma:ApiKey has only 10 characters, short enough to be guessed: use at least 16").And.Contain("openssl rand -hex 32").And.Not.Contain("k3y-secret"));
    }

    [TestCase(null)]
    [TestCase("0123456789abcdef")]
    [TestCase("a-much-longer-random-looking-key-0123456789")]
    public void Warning_NoKeyOrLongEnough_None(string? key)
    {
        Assert.That(ApiKeyStrength.Warning(key), Is.Null);
    }
}
