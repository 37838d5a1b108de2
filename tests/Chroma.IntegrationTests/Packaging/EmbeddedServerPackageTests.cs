using System.IO.Compression;
using System.Xml.Linq;

namespace Chroma.IntegrationTests.Packaging;

/// <summary>
/// The <c>Chroma.Server</c> package is a library: a fresh console project (outside the repository) that adds it from a
/// local feed starts an embedded server with <c>ChromaServer.StartAsync</c>, logs a record to it through
/// <c>ChromaClient</c> (the <c>Chroma</c> package) and reads it back.
/// </summary>
[TestFixture]
[Category("packaging")]
[NonParallelizable]
public sealed class EmbeddedServerPackageTests
{
    [Test]
    [CancelAfter(420_000)]
    public async Task Pack_FreshConsoleAppAddsServerPackage_StartsEmbeddedServerAndReadsBackALoggedRecord(CancellationToken cancellationToken)
    {
        // Arrange: both packages packed under a version no other run used (the global packages folder would otherwise
        // serve a stale copy).
        var repository = PackageConsumerTests.FindRepositoryRoot();
        var work = Path.Combine(Path.GetTempPath(), "chroma-embedded-" + Guid.NewGuid().ToString("N"));
        var feed = Path.Combine(work, "feed");
        var app = Path.Combine(work, "consumer");
        var version = "0.0.1-it" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);
        Directory.CreateDirectory(feed);
        try
        {
            foreach (var project in new[] { Path.Combine("src", "Chroma.Server", "Chroma.Server.csproj"), Path.Combine("src", "Chroma", "Chroma.csproj") })
            {
                await DotnetCommand.RunCheckedAsync(repository, cancellationToken,
                    "pack", Path.Combine(repository, project), "-c", "Release", "-o", feed, $"-p:Version={version}", "-nologo");
            }

            AssertLibraryPackage(Path.Combine(feed, $"Chroma.Server.{version}.nupkg"));
            await DotnetCommand.RunCheckedAsync(work, cancellationToken, "new", "console", "-o", app, "-n", "Consumer", "--framework", "net10.0");
            PackageConsumerTests.WriteNuGetConfig(Path.Combine(repository, "nuget.config"), Path.Combine(app, "nuget.config"), feed);
            PackageConsumerTests.AddPackageReference(Path.Combine(app, "Consumer.csproj"), "Chroma.Server", version);
            PackageConsumerTests.AddPackageReference(Path.Combine(app, "Consumer.csproj"), "Chroma", version);
            await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), ConsumerProgram, cancellationToken);

            // Act
            var output = await DotnetCommand.RunCheckedAsync(app, cancellationToken, "run", "-c", "Release", "--", Path.Combine(work, "data"));

            // Assert: the app read back the record it logged, through the server it embedded.
            Assert.That(output, Does.Contain("read back 1 record(s): file:///r-1.png label 7 embedding 0.5,1.5,-2"));
            Assert.That(File.Exists(Path.Combine(work, "data", "chroma.db")), Is.True, "the embedded server's SQLite file in the data directory");
        }
        finally
        {
            PackageConsumerTests.TryDelete(work);
            PackageConsumerTests.TryDelete(Path.Combine(PackageConsumerTests.GlobalPackagesFolder(), "chroma.server", version));
            PackageConsumerTests.TryDelete(Path.Combine(PackageConsumerTests.GlobalPackagesFolder(), "chroma", version));
        }
    }

    private const string ConsumerProgram = """
        using Chroma;
        using Chroma.Server.Hosting;

        // A user's app: an in-process server on a free port, a client logging to it, the record read back.
        await using var server = await ChromaServer.StartAsync(new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = args[0] });
        await using var chroma = new ChromaClient(server.Endpoint);
        var set = chroma.GetEmbeddingSet(new EmbeddingSetDescriptor("embedded", "1.0", "fc", dimension: 3));
        set.LogTraining([0.5f, 1.5f, -2f], label: "7", inputUri: "file:///r-1.png");
        await chroma.FlushAsync();
        var page = await chroma.GetRecordsAsync(set.Descriptor.Id, new RecordQuery { IncludeEmbeddings = true });
        foreach (var record in page.Records)
        {
            Console.WriteLine($"read back {page.Records.Count} record(s): {record.InputUri} label {record.Label} embedding {string.Join(',', record.Embedding.ToArray().Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))}");
        }

        return page.Records.Count == 1 ? 0 : 1;
        """;

    private static void AssertLibraryPackage(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        var names = zip.Entries.Select(e => e.FullName).ToList();
        Assert.That(names, Does.Contain("lib/net10.0/Chroma.Server.dll").And.Contain("lib/net10.0/Chroma.Server.xml"));
        Assert.That(names, Has.None.EndsWith("DotnetToolSettings.xml"), "a library, not a tool");
        Assert.That(names, Has.None.EndsWith("appsettings.json"), "the standalone program's settings belong to the tool");
        using var nuspec = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        var types = XDocument.Load(nuspec).Descendants().Where(e => e.Name.LocalName == "packageType").Select(e => e.Attribute("name")?.Value);
        Assert.That(types, Has.No.EqualTo("DotnetTool"));
    }
}
