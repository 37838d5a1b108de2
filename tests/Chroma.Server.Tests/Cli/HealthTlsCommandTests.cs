using Chroma.Server.Cli;
using Chroma.Server.Cli.Connection;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Cli;

/// <summary>
/// <c>health</c> against a real TLS server (probe Q, Q2 and Q6): the container's probe cannot pass with a certificate
/// unless the CLI can trust one. <c>--trusted-root</c> trusts a root as <c>ChromaClientOptions.TrustedRootCertificate</c>
/// does; <c>--local</c> finds the server by its own settings (the container's HEALTHCHECK); a failed TLS handshake is
/// "not reachable" (exit code 3) with what to change, not "the server answered Internal".
/// </summary>
[TestFixture]
[NonParallelizable] // --local reads Chroma__* environment variables of this process.
public sealed class HealthTlsCommandTests
{
    private TestCertificates _certificates = null!;
    private CertificateFiles _selfSigned = null!;
    private CertificateFiles _privateCa = null!;
    private CertificateFiles _privateCaForLocalhost = null!;

    [OneTimeSetUp]
    public void CreateCertificates()
    {
        _certificates = new TestCertificates();
        _selfSigned = _certificates.SelfSigned("self-signed");
        _privateCa = _certificates.IssuedByPrivateCa("issued", "chroma.example.test");
        _privateCaForLocalhost = _certificates.IssuedByPrivateCa("issued-localhost", "localhost");
    }

    [OneTimeTearDown]
    public void DeleteCertificates() => _certificates.Dispose();

    [Test, CancelAfter(60_000)]
    public async Task Health_HttpsSelfSignedNotTrusted_ExitsUnreachableAndNamesTrustedRoot()
    {
        await using var server = await StartAsync(_selfSigned);

        var run = await CliRun.RunAsync("health", "--endpoint", server.Server.Endpoint.ToString(), "--timeout", "10");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Unreachable), run.Error);
            Assert.That(run.Error, Does.Contain("the TLS handshake failed").And.Contain("UntrustedRoot").And.Contain("--trusted-root"));
            Assert.That(run.Error, Does.Not.Contain("the server answered"));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Health_HttpsWithTrustedRootOfSelfSignedCertificate_Serving()
    {
        await using var server = await StartAsync(_selfSigned);

        var run = await CliRun.RunAsync("health", "--endpoint", server.Server.Endpoint.ToString(), "--trusted-root", _selfSigned.CertificatePath, "--timeout", "10");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        Assert.That(run.Console, Does.Contain("SERVING"));
    }

    [Test, CancelAfter(60_000)]
    public async Task Sets_HttpsWithTrustedRootOfPrivateCa_Answers()
    {
        // The client commands share the connection: --trusted-root takes the private CA that issued the certificate.
        await using var server = await StartAsync(_privateCaForLocalhost);
        var endpoint = $"https://localhost:{server.Server.Endpoint.Port}";

        var untrusted = await CliRun.RunAsync("sets", "--endpoint", endpoint, "--timeout", "10");
        var trusted = await CliRun.RunAsync("sets", "--endpoint", endpoint, "--trusted-root", _privateCaForLocalhost.CaCertificatePath, "--timeout", "10", "--json");

        Assert.Multiple(() =>
        {
            Assert.That(untrusted.ExitCode, Is.EqualTo(CliExitCode.Unreachable), untrusted.Error);
            Assert.That(untrusted.Error, Does.Contain("--trusted-root"));
            Assert.That(trusted.ExitCode, Is.EqualTo(CliExitCode.Success), trusted.Error);
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Sets_TrustedRootButCertificateNamesAnotherHost_ExitsUnreachableAndSaysSo()
    {
        // The root is trusted, but the host name is still checked: localhost is not chroma.example.test.
        await using var server = await StartAsync(_privateCa);
        var endpoint = $"https://localhost:{server.Server.Endpoint.Port}";

        var run = await CliRun.RunAsync("sets", "--endpoint", endpoint, "--trusted-root", _privateCa.CaCertificatePath, "--timeout", "10");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Unreachable), run.Error);
        Assert.That(run.Error, Does.Contain("does not name 'localhost'"));
    }

    [Test, CancelAfter(60_000)]
    public async Task Health_HttpToTlsServer_ExitsUnreachableAndSaysUseHttps()
    {
        await using var server = await StartAsync(_selfSigned);
        var plain = new UriBuilder(server.Server.Endpoint) { Scheme = Uri.UriSchemeHttp }.Uri;

        var run = await CliRun.RunAsync("health", "--endpoint", plain.ToString(), "--timeout", "10");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Unreachable), run.Error);
        Assert.That(run.Error, Does.Contain("use https://"));
    }

    [Test, CancelAfter(60_000)]
    public async Task TlsListenerProbe_TellsTlsListenerFromPlainTextAndClosedPort()
    {
        // The CLI's second opinion when an http:// call fails on the connection in a way whose text does not name the
        // HTTP/2 handshake (which side writes first varies with load): a TLS handshake with the listener decides.
        await using var tls = await StartAsync(_selfSigned);
        await using var plain = await StartAsync(null);
        var closed = new Uri($"http://127.0.0.1:{FreePort()}");

        var tlsAnswer = await TlsListenerProbe.SpeaksTlsAsync(tls.Server.Endpoint, TimeSpan.FromSeconds(10));
        var plainAnswer = await TlsListenerProbe.SpeaksTlsAsync(plain.Server.Endpoint, TimeSpan.FromSeconds(10));
        var closedAnswer = await TlsListenerProbe.SpeaksTlsAsync(closed, TimeSpan.FromSeconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(tlsAnswer, Is.True, "TLS listener");
            Assert.That(plainAnswer, Is.False, "plain-text listener");
            Assert.That(closedAnswer, Is.False, "closed port");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Health_HttpsToPlainTextServer_ExitsUnreachableAndSaysUseHttp()
    {
        await using var server = await StartAsync(null);
        var https = new UriBuilder(server.Server.Endpoint) { Scheme = Uri.UriSchemeHttps }.Uri;

        var run = await CliRun.RunAsync("health", "--endpoint", https.ToString(), "--timeout", "10");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Unreachable), run.Error);
        Assert.That(run.Error, Does.Contain("the TLS handshake failed").And.Contain("use http://"));
    }

    [TestCase("pem", TestName = "Health_LocalWithPrivateCaPemCertificateNotNamingLoopback_Serving")]
    [TestCase("pfx", TestName = "Health_LocalWithPrivateCaPkcs12Certificate_Serving")]
    [TestCase("none", TestName = "Health_LocalWithoutCertificate_Serving")]
    [CancelAfter(60_000)]
    public async Task Health_Local_Serving(string certificate)
    {
        // The container's probe: the server's own settings, as environment variables; the certificate names neither
        // 127.0.0.1 nor localhost and comes from a CA this machine does not trust.
        var files = certificate == "none" ? null : _privateCa;
        await using var server = await StartAsync(files, pfx: certificate == "pfx");
        var settings = Settings(server.Server.Endpoint.Port, files, pfx: certificate == "pfx");

        var run = await WithEnvironmentAsync(settings, () => CliRun.RunAsync("health", "--local", "--timeout", "10", "--json"));

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        Assert.That(run.Output, Does.Contain(files is null ? "\"http://127.0.0.1:" : "\"https://127.0.0.1:"));
    }

    [Test, CancelAfter(60_000)]
    public async Task Health_LocalWhenTheServerPresentsAnotherCertificate_ExitsUnreachable()
    {
        // Only the configured certificate is accepted: the pin is not "accept anything".
        await using var server = await StartAsync(_selfSigned);
        var settings = Settings(server.Server.Endpoint.Port, _privateCa, pfx: false);

        var run = await WithEnvironmentAsync(settings, () => CliRun.RunAsync("health", "--local", "--timeout", "10"));

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Unreachable), run.Error);
        Assert.That(run.Error, Does.Contain("the TLS handshake failed"));
    }

    [Test, CancelAfter(60_000)]
    public async Task Health_LocalWithExpiredCertificate_ExitsUnreachableAndSaysItExpired()
    {
        // Probe X, X4: --local accepts exactly the server's certificate, whatever its dates, so an expired one passed the
        // container's HEALTHCHECK while every other client was refused.
        var expired = _certificates.SelfSigned("expired", DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(-1));
        await using var server = await StartAsync(expired);
        var settings = Settings(server.Server.Endpoint.Port, expired, pfx: false);

        var run = await WithEnvironmentAsync(settings, () => CliRun.RunAsync("health", "--local", "--timeout", "10"));

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Unreachable), run.Error);
            Assert.That(run.Error, Does.Contain("the server's certificate (Chroma:Certificate:Path) expired on"));
            Assert.That(run.Console, Does.Not.Contain("SERVING"));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Health_LocalWithCertificateExpiringSoon_ServingAndWarns()
    {
        var soon = _certificates.SelfSigned("expires-soon", DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(3));
        await using var server = await StartAsync(soon);
        var settings = Settings(server.Server.Endpoint.Port, soon, pfx: false);

        var run = await WithEnvironmentAsync(settings, () => CliRun.RunAsync("health", "--local", "--timeout", "10"));

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
            Assert.That(run.Error, Does.Contain("expires on").And.Contain("days from now"));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Sets_TrustedRootOfExpiredCertificate_ExitsUnreachableAndSaysRenew()
    {
        var expired = _certificates.SelfSigned("expired-root", DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(-1));
        await using var server = await StartAsync(expired);

        var run = await CliRun.RunAsync("sets", "--endpoint", server.Server.Endpoint.ToString(), "--trusted-root", expired.CertificatePath, "--timeout", "10");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Unreachable), run.Error);
            Assert.That(run.Error, Does.Contain("NotTimeValid").And.Contain("outside its validity period").And.Contain("renew Chroma:Certificate"));
            Assert.That(run.Error, Does.Not.Contain("use http://"));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Health_LocalWithEndpoint_UsageError()
    {
        var run = await CliRun.RunAsync("health", "--local", "--endpoint", "http://127.0.0.1:1");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Usage), run.Error);
        Assert.That(run.Error, Does.Contain("leave out --endpoint"));
    }

    [Test, CancelAfter(60_000)]
    public async Task Health_TrustedRootMissingFile_UsageErrorNamingTheOption()
    {
        var run = await CliRun.RunAsync("health", "--trusted-root", Path.Combine(_certificates.Folder, "missing.pem"));

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Usage), run.Error);
        Assert.That(run.Error, Does.Contain("--trusted-root names no file"));
    }

    private static Task<RunningServer> StartAsync(CertificateFiles? files, bool pfx = false) =>
        RunningServer.StartAsync(o =>
        {
            o.Web.Enabled = false;
            if (files is not null)
            {
                o.Certificate.Path = pfx ? files.PfxPath : files.CertificatePath;
                o.Certificate.KeyPath = pfx ? null : files.KeyPath;
                o.Certificate.Password = pfx ? TestCertificates.Password : null;
            }
        });

    private static Dictionary<string, string?> Settings(int port, CertificateFiles? files, bool pfx) => new()
    {
        ["Chroma__Host"] = "*",
        ["Chroma__Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Chroma__Certificate__Path"] = files is null ? null : pfx ? files.PfxPath : files.CertificatePath,
        ["Chroma__Certificate__KeyPath"] = files is null || pfx ? null : files.KeyPath,
        ["Chroma__Certificate__Password"] = files is not null && pfx ? TestCertificates.Password : null,
    };

    private static async Task<CliRun> WithEnvironmentAsync(Dictionary<string, string?> variables, Func<Task<CliRun>> run)
    {
        var before = variables.Keys.ToDictionary(name => name, Environment.GetEnvironmentVariable);
        try
        {
            foreach (var (name, value) in variables)
            {
                Environment.SetEnvironmentVariable(name, value);
            }

            return await run();
        }
        finally
        {
            foreach (var (name, value) in before)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
