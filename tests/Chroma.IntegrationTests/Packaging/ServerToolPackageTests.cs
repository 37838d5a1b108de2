using System.IO.Compression;
using System.Text.Json;
using System.Xml.Linq;

namespace Chroma.IntegrationTests.Packaging;

/// <summary>
/// The <c>Chroma.Server.Tool</c> package is the <c>chroma-server</c> .NET tool: installed from a local feed, it says its version
/// and queries a running server.
/// </summary>
[TestFixture]
[Category("packaging")]
[NonParallelizable]
public sealed class ServerToolPackageTests
{
    [Test]
    [CancelAfter(300_000)]
    public async Task Pack_ServerTool_InstalledCommandQueriesARunningServer(CancellationToken cancellationToken)
    {
        // Arrange
        var repository = PackageConsumerTests.FindRepositoryRoot();
        var work = Path.Combine(Path.GetTempPath(), "chroma-tool-" + Guid.NewGuid().ToString("N"));
        var feed = Path.Combine(work, "feed");
        var tools = Path.Combine(work, "tools");
        var version = "0.0.1-it" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);
        await using var server = await ServerFixture.StartAsync();
        await using (var client = new ChromaClient(server.Endpoint))
        {
            var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("tool", "1", "fc", dimension: 2));
            set.LogTraining([1f, 2f], label: "a");
            set.LogProduction([3f, 4f]);
            await client.FlushAsync(cancellationToken);
        }

        try
        {
            await DotnetCommand.RunCheckedAsync(repository, cancellationToken,
                "pack", Path.Combine(repository, "src", "Chroma.Server.Tool", "Chroma.Server.Tool.csproj"), "-c", "Release", "-o", feed, $"-p:Version={version}", "-nologo");
            Assert.That(ToolCommandName(Path.Combine(feed, $"Chroma.Server.Tool.{version}.nupkg")), Is.EqualTo("chroma-server"));
            await DotnetCommand.RunCheckedAsync(work, cancellationToken,
                "tool", "install", "Chroma.Server.Tool", "--version", version, "--tool-path", tools, "--add-source", feed);

            // Act: the installed command, as a user would run it.
            var (versionExitCode, versionOutput) = await ProcessRunner.RunAsync(Path.Combine(tools, "chroma-server"), ["--version"], cancellationToken);
            var (exitCode, output) = await ProcessRunner.RunAsync(Path.Combine(tools, "chroma-server"), ["sets", "--endpoint", server.Endpoint.ToString(), "--json"], cancellationToken);

            // Assert
            Assert.That(versionExitCode, Is.Zero, versionOutput);
            Assert.That(versionOutput.Trim(), Does.StartWith("chroma-server ").And.Contain(version));
            Assert.That(exitCode, Is.Zero, output);
            using var json = JsonDocument.Parse(output);
            var only = json.RootElement.GetProperty("sets").EnumerateArray().Single();
            Assert.That(only.GetProperty("setId").GetString(), Is.EqualTo("tool/1/fc"));
            Assert.That(only.GetProperty("totalRecords").GetInt64(), Is.EqualTo(2));
        }
        finally
        {
            PackageConsumerTests.TryDelete(work);
            PackageConsumerTests.TryDelete(Path.Combine(PackageConsumerTests.GlobalPackagesFolder(), "chroma.server.tool", version));
        }
    }

    private static string? ToolCommandName(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        using var settings = zip.Entries.Single(e => e.FullName.EndsWith("DotnetToolSettings.xml", StringComparison.Ordinal)).Open();
        return XDocument.Load(settings).Descendants("Command").Single().Attribute("Name")?.Value;
    }
}
