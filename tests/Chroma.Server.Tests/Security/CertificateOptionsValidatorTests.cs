using Chroma.Server.Security;
using Chroma.Server.Security.Internal;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Security;

[TestFixture]
public sealed class CertificateOptionsValidatorTests
{
    public static IEnumerable<TestCaseData> BadOptions()
    {
        static TestCaseData Case(string name, Action<CertificateOptions> breakIt, string fragment) =>
            new TestCaseData(breakIt, fragment).SetName("Validate_" + name + "_FailsNamingTheSetting");

        yield return Case("KeyWithoutCertificate", o => o.KeyPath = "server.key",
            "Chroma:Certificate:Path (Chroma__Certificate__Path) must be set when Chroma:Certificate:KeyPath or Chroma:Certificate:Password is");
        yield return Case("PasswordWithoutCertificate", o => o.Password = "secret", "Chroma:Certificate:Path (Chroma__Certificate__Path) must be set when");
        yield return Case("MissingCertificate", o => o.Path = "/no/such/server.pfx", "Chroma:Certificate:Path (Chroma__Certificate__Path) names no file");
        yield return Case("MissingKey", o => { o.Path = typeof(CertificateOptionsValidatorTests).Assembly.Location; o.KeyPath = "/no/such/server.key"; },
            "Chroma:Certificate:KeyPath (Chroma__Certificate__KeyPath) names no file");
    }

    [TestCaseSource(nameof(BadOptions))]
    public void Validate_BadCertificateOption_FailsNamingIt(Action<CertificateOptions> breakIt, string fragment)
    {
        // Arrange
        var options = new CertificateOptions();
        breakIt(options);

        // Act
        var problems = ValidatorAssert.Problems(new CertificateOptionsValidator(), options);

        // Assert
        Assert.That(problems, Does.Contain(fragment));
    }

    [Test]
    public void Validate_PasswordWithoutCertificate_NeverQuotesThePassword()
    {
        var problems = ValidatorAssert.Problems(new CertificateOptionsValidator(), new CertificateOptions { Password = "hunter2" });

        Assert.That(problems, Does.Not.Contain("hunter2"));
    }

    [Test]
    public void Validate_NoCertificate_Succeeds() => ValidatorAssert.Valid(new CertificateOptionsValidator(), new CertificateOptions());
}
