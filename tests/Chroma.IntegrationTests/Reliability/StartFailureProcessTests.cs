using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Chroma.IntegrationTests.Reliability;

/// <summary>
/// The standalone <c>chroma-server</c> process when it cannot start, or is asked for something it does not know: one line
/// on standard error naming the file or setting, the documented exit code, no stack trace, no SIGABRT (exit 134).
/// </summary>
[TestFixture]
public sealed class StartFailureProcessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private string _folder = null!;

    [SetUp]
    public void CreateFolder()
    {
        _folder = Path.Combine(Path.GetTempPath(), "chroma-it-start-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [Test, CancelAfter(120_000)]
    public async Task Serve_DamagedDatabaseFile_ExitCode7AndOneLineNamingTheFile()
    {
        // Arrange
        var database = Path.Combine(_folder, "chroma.db");
        await File.WriteAllBytesAsync(database, [.. "SQLite format 3\0"u8, .. new byte[8192].Select((_, i) => (byte)(i * 7))]);

        // Act
        var run = await ServerProcess.RunToExitAsync(new Dictionary<string, string> { ["Chroma__DataDirectory"] = _folder }, Timeout);

        // Assert
        AssertOneLineFailure(run, 7, database);
    }

    [Test, CancelAfter(120_000)]
    public async Task Serve_WrongCertificatePassword_ExitCode6AndOneLineNamingTheFile()
    {
        // Arrange
        var pfx = Path.Combine(_folder, "server.pfx");
        using (var key = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "right-password"));
        }

        // Act
        var run = await ServerProcess.RunToExitAsync(
            new Dictionary<string, string>
            {
                ["Chroma__DataDirectory"] = Path.Combine(_folder, "data"),
                ["Chroma__Certificate__Path"] = pfx,
                ["Chroma__Certificate__Password"] = "wrong-password",
            },
            Timeout);

        // Assert
        AssertOneLineFailure(run, 6, pfx);
        Assert.That(run.Error + run.Output, Does.Not.Contain("wrong-password"));
    }

    [Test, CancelAfter(120_000)]
    public async Task Serve_MissingCertificateFile_ExitCode6NamingTheFile()
    {
        var missing = Path.Combine(_folder, "missing.pfx");

        var run = await ServerProcess.RunToExitAsync(
            new Dictionary<string, string> { ["Chroma__DataDirectory"] = _folder, ["Chroma__Certificate__Path"] = missing }, Timeout);

        AssertOneLineFailure(run, 6, missing);
    }

    [Test, CancelAfter(120_000)]
    public async Task Serve_UnconvertibleSetting_ExitCode5NamingTheSetting()
    {
        var run = await ServerProcess.RunToExitAsync(
            new Dictionary<string, string> { ["Chroma__DataDirectory"] = _folder, ["Chroma__ShutdownTimeout"] = "soon" }, Timeout);

        AssertOneLineFailure(run, 5, "Chroma:ShutdownTimeout");
    }

    [Test, CancelAfter(120_000)]
    public async Task Run_UnknownCommand_ExitCode2SuggestingTheCommandInsteadOfServing()
    {
        var run = await ServerProcess.RunToExitAsync(new Dictionary<string, string> { ["Chroma__DataDirectory"] = _folder }, Timeout, "stast");

        AssertOneLineFailure(run, 2, "did you mean 'stats'?");
        Assert.That(File.Exists(Path.Combine(_folder, "chroma.db")), Is.False, "no server was started");
    }

    [Test, CancelAfter(120_000)]
    public async Task Serve_OptionThatIsNotASetting_ExitCode2InsteadOfServingWithoutIt()
    {
        // probe V, V13: `serve --port 6000` served on the configured port, --port silently dropped.
        var run = await ServerProcess.RunToExitAsync(new Dictionary<string, string> { ["Chroma__DataDirectory"] = _folder }, Timeout, "serve", "--port", "6000");

        AssertOneLineFailure(run, 2, "unknown option '--port' for 'serve'");
        Assert.That(File.Exists(Path.Combine(_folder, "chroma.db")), Is.False, "no server was started");
    }

    [Test, CancelAfter(120_000)]
    public async Task Serve_Help_PrintsTheHelpInsteadOfServing()
    {
        var run = await ServerProcess.RunToExitAsync(new Dictionary<string, string> { ["Chroma__DataDirectory"] = _folder }, Timeout, "serve", "--help");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(run.Output, Does.Contain("chroma-server migrate"));
        Assert.That(File.Exists(Path.Combine(_folder, "chroma.db")), Is.False, "no server was started");
    }

    private static void AssertOneLineFailure((int ExitCode, string Output, string Error) run, int exitCode, string named)
    {
        var lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(exitCode), run.Error + run.Output);
            Assert.That(lines, Has.Length.EqualTo(1), run.Error);
            Assert.That(lines.FirstOrDefault(), Does.StartWith("chroma-server: ").And.Contain(named));
            Assert.That(run.Error + run.Output, Does.Not.Contain("   at "), "no stack trace");
        });
    }
}
