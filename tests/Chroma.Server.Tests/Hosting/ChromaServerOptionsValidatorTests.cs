using Chroma.Server.Hosting;
using Chroma.Server.Hosting.Internal;
using Chroma.Server.Tests.TestSupport;
using Chroma.Server.Web;

namespace Chroma.Server.Tests.Hosting;

/// <summary>The hosting settings of the root section (<c>Chroma:Host</c>, <c>Chroma:Port</c>, ...); each feature section has its own validator tests.</summary>
[TestFixture]
public sealed class ChromaServerOptionsValidatorTests
{
    public static IEnumerable<TestCaseData> BadOptions()
    {
        static TestCaseData Case(string name, Action<ChromaServerOptions> breakIt, string fragment) =>
            new TestCaseData(breakIt, fragment).SetName("Validate_" + name + "_FailsNamingTheSetting");

        yield return Case("HostName", o => o.Host = "example.com", "Chroma:Host (Chroma__Host) must be \"localhost\", \"*\" or an IP address");
        yield return Case("EmptyHost", o => o.Host = "", "Chroma:Host (Chroma__Host) must be");
        yield return Case("NegativePort", o => o.Port = -1, "Chroma:Port (Chroma__Port) must be between 0 and 65535 (got -1)");
        yield return Case("HugePort", o => o.Port = 70_000, "Chroma:Port (Chroma__Port) must be between 0 and 65535");
        yield return Case("BlankDataDirectory", o => o.DataDirectory = " ", "Chroma:DataDirectory (Chroma__DataDirectory) must name a folder");
        yield return Case("BlankApiKey", o => o.ApiKey = "", "Chroma:ApiKey (Chroma__ApiKey) must be null");
        yield return Case("BlankPreviousApiKey", o => { o.ApiKey = "new-key"; o.PreviousApiKey = " "; }, "Chroma:PreviousApiKey (Chroma__PreviousApiKey) must be null or a non-blank key");
        yield return Case("PreviousApiKeyWithoutAKey", o => o.PreviousApiKey = "old-key", "Chroma:PreviousApiKey (Chroma__PreviousApiKey) is set, but Chroma:ApiKey (Chroma__ApiKey) is not");
        yield return Case("PreviousApiKeySameAsTheKey", o => { o.ApiKey = "same-key"; o.PreviousApiKey = "same-key"; }, "Chroma:PreviousApiKey (Chroma__PreviousApiKey) is the same as Chroma:ApiKey");
        yield return Case("ZeroShutdownTimeout", o => o.ShutdownTimeout = TimeSpan.Zero, "Chroma:ShutdownTimeout (Chroma__ShutdownTimeout) must be between 1 second and 5 minutes");
        yield return Case("WebPortIsGrpcPort", o => { o.Port = 6000; o.Web = new WebOptions { Port = 6000 }; }, "Chroma:Web:Port (Chroma__Web__Port) must differ from Chroma:Port");
    }

    [TestCaseSource(nameof(BadOptions))]
    public void Validate_BadOption_FailsNamingIt(Action<ChromaServerOptions> breakIt, string fragment)
    {
        // Arrange
        var options = new ChromaServerOptions();
        breakIt(options);

        // Act
        var problems = ValidatorAssert.Problems(new ChromaServerOptionsValidator(), options);

        // Assert
        Assert.That(problems, Does.Contain(fragment));
    }

    [TestCase("localhost")]
    [TestCase("*")]
    [TestCase("127.0.0.1")]
    [TestCase("::1")]
    public void Validate_DefaultsWithSupportedHost_Succeeds(string host)
    {
        // Arrange
        var options = new ChromaServerOptions { Host = host, ApiKey = "secret" };

        // Act / Assert
        ValidatorAssert.Valid(new ChromaServerOptionsValidator(), options);
    }

    [Test]
    public void Validate_TwoBadSettings_NamesBoth()
    {
        // Arrange
        var options = new ChromaServerOptions { Port = -1, ShutdownTimeout = TimeSpan.FromHours(1) };

        // Act
        var problems = ValidatorAssert.Problems(new ChromaServerOptionsValidator(), options);

        // Assert
        Assert.That(problems, Does.Contain("Chroma:Port").And.Contain("Chroma:ShutdownTimeout"));
    }
}
