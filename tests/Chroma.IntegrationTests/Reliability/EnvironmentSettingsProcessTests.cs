using System.Globalization;
using Chroma;
using Grpc.Core;

namespace Chroma.IntegrationTests.Reliability;

/// <summary>
/// The environment variable names the README and the container document (<c>Chroma__Host</c>, <c>Chroma__Port</c>,
/// <c>Chroma__DataDirectory</c>, <c>Chroma__ApiKey</c>, <c>Chroma__Storage__Provider</c>,
/// <c>Chroma__Storage__ConnectionString</c>, <c>Chroma__Web__Port</c>) and a feature sub-section, each set in the
/// environment of a real <c>chroma-server</c> process and seen applied.
/// </summary>
[TestFixture]
public sealed class EnvironmentSettingsProcessTests
{
    private const string Key = "env-test-key";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private string _folder = null!;

    [SetUp]
    public void CreateFolder()
    {
        _folder = Path.Combine(Path.GetTempPath(), "chroma-it-env-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [Test, CancelAfter(180_000)]
    public async Task Serve_HostPortDataDirectoryApiKeyProviderAndWebPortFromEnvironment_EachApplied(CancellationToken cancellationToken)
    {
        // Arrange: ServerProcess sets Chroma__Host=127.0.0.1, Chroma__Port and Chroma__DataDirectory itself.
        var data = Path.Combine(_folder, "data");
        var webPort = ServerProcess.FreePort();
        await using var server = new ServerProcess(data, ServerProcess.FreePort(), settings: new Dictionary<string, string>
        {
            ["Chroma__ApiKey"] = Key,
            ["Chroma__Storage__Provider"] = "Sqlite",
            ["Chroma__Web__Port"] = webPort.ToString(CultureInfo.InvariantCulture),
        });

        // Act: the start waits until the gRPC health check answers on 127.0.0.1 at the port given.
        await server.StartAsync(cancellationToken);
        await using var anonymous = new ChromaClient(new ChromaClientOptions { Endpoint = server.Endpoint, RequestTimeout = TimeSpan.FromSeconds(20) });
        await using var keyed = new ChromaClient(new ChromaClientOptions { Endpoint = server.Endpoint, ApiKey = Key, RequestTimeout = TimeSpan.FromSeconds(20) });
        var refused = Assert.ThrowsAsync<ChromaException>(async () => await anonymous.ListSetsAsync(cancellationToken));
        var sets = await keyed.ListSetsAsync(cancellationToken);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        using var studio = await http.GetAsync(new Uri($"http://127.0.0.1:{webPort}/"), cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(File.Exists(Path.Combine(data, "chroma.db")), Is.True, "Chroma__DataDirectory and Chroma__Storage__Provider=Sqlite");
            Assert.That(refused!.StatusCode, Is.EqualTo(StatusCode.Unauthenticated), "Chroma__ApiKey");
            Assert.That(sets, Is.Empty);
            Assert.That(studio.IsSuccessStatusCode, Is.True, "Chroma__Web__Port");
        });
    }

    [Test, CancelAfter(180_000)]
    public async Task Serve_PostgresProviderAndConnectionStringFromEnvironment_ExitCode5NamingTheSettingAndWhereItTried()
    {
        // Arrange: nothing listens on this port, so the connection fails at once and names where it tried.
        var closedPort = ServerProcess.FreePort();
        var connectionString = string.Create(CultureInfo.InvariantCulture,
            $"Host=127.0.0.1;Port={closedPort};Database=chroma;Username=chroma;Password=env-secret;Timeout=5");

        // Act
        var run = await ServerProcess.RunToExitAsync(
            new Dictionary<string, string>
            {
                ["Chroma__DataDirectory"] = _folder,
                ["Chroma__Storage__Provider"] = "Postgres",
                ["Chroma__Storage__ConnectionString"] = connectionString,
            },
            Timeout);

        // Assert
        var lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(5), run.Error + run.Output);
            Assert.That(lines, Has.Length.EqualTo(1), run.Error);
            Assert.That(lines.FirstOrDefault(), Does.StartWith("chroma-server: Chroma:Storage:ConnectionString")
                .And.Contain(string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={closedPort}")));
            Assert.That(run.Error + run.Output, Does.Not.Contain("env-secret"));
        });
    }

    [Test, CancelAfter(180_000)]
    public async Task Serve_BadSubSectionSettingFromEnvironment_ExitCode5OneLineNamingTheFullPath()
    {
        // Act
        var run = await ServerProcess.RunToExitAsync(
            new Dictionary<string, string> { ["Chroma__DataDirectory"] = _folder, ["Chroma__Indexing__SaveInterval"] = "00:00:00.010" }, Timeout);

        // Assert
        var lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(5), run.Error + run.Output);
            Assert.That(lines, Is.EqualTo(new[] { "chroma-server: Chroma:Indexing:SaveInterval (Chroma__Indexing__SaveInterval) must be between 1 second and 1 day (got 00:00:00.0100000)" }));
            Assert.That(File.Exists(Path.Combine(_folder, "chroma.db")), Is.False, "nothing opened with a bad setting");
        });
    }
}
