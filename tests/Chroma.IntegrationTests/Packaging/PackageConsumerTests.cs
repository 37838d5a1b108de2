using System.IO.Compression;
using System.Xml.Linq;

namespace Chroma.IntegrationTests.Packaging;

/// <summary>
/// The <c>Chroma</c> package as a user gets it: packed from this repository, referenced by a fresh
/// console project (outside the repository, so none of its build settings apply), logging records
/// to a real server on 127.0.0.1.
/// </summary>
[TestFixture]
[Category("packaging")]
[NonParallelizable]
public sealed class PackageConsumerTests
{
    private const int TrainingRecords = 30;
    private const int ProductionRecords = 20;

    [Test]
    [CancelAfter(300_000)]
    public async Task Pack_FreshConsoleAppReferencesPackage_RecordsReachTheServer(CancellationToken cancellationToken)
    {
        // Arrange: pack into a temporary feed under a version no other run used (the global
        // packages folder would otherwise serve a stale copy), and a server to log to.
        var repository = FindRepositoryRoot();
        var work = Path.Combine(Path.GetTempPath(), "chroma-pack-" + Guid.NewGuid().ToString("N"));
        var feed = Path.Combine(work, "feed");
        var app = Path.Combine(work, "consumer");
        var version = "0.0.1-it" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);
        Directory.CreateDirectory(feed);
        await using var server = await ServerFixture.StartAsync();
        try
        {
            await DotnetCommand.RunCheckedAsync(repository, cancellationToken,
                "pack", Path.Combine(repository, "src", "Chroma", "Chroma.csproj"), "-c", "Release", "-o", feed, $"-p:Version={version}", "-nologo");
            var package = Path.Combine(feed, $"Chroma.{version}.nupkg");
            AssertPackageContents(package);
            Assert.That(File.Exists(Path.Combine(feed, $"Chroma.{version}.snupkg")), Is.True, "symbols package");

            await DotnetCommand.RunCheckedAsync(work, cancellationToken, "new", "console", "-o", app, "-n", "Consumer", "--framework", "net10.0");
            WriteNuGetConfig(Path.Combine(repository, "nuget.config"), Path.Combine(app, "nuget.config"), feed);
            AddPackageReference(Path.Combine(app, "Consumer.csproj"), "Chroma", version);
            await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), ConsumerProgram, cancellationToken);

            // Act
            var output = await DotnetCommand.RunCheckedAsync(app, cancellationToken, "run", "-c", "Release", "--", server.Endpoint.ToString());

            // Assert: the app says what it sent, and the server holds exactly that.
            Assert.That(output, Does.Contain($"exported {TrainingRecords + ProductionRecords}"));
            // The core package brings neither ML.NET nor Microsoft.Extensions.AI (their adapters are separate packages).
            var shipped = Directory.GetFiles(Path.Combine(app, "bin", "Release", "net10.0"), "*.dll").Select(Path.GetFileName).ToList();
            Assert.That(shipped, Has.None.StartsWith("Microsoft.ML").And.None.StartsWith("Microsoft.Extensions.AI").And.None.StartsWith("TorchSharp"));
            Assert.That(shipped, Does.Contain("Chroma.dll"));
            await using var client = new ChromaClient(server.Endpoint);
            Assert.That(await client.CountAsync("consumer/1.0/fc", ChromaDatasets.Training, cancellationToken: cancellationToken), Is.EqualTo(TrainingRecords));
            Assert.That(await client.CountAsync("consumer/1.0/fc", ChromaDatasets.Production, cancellationToken: cancellationToken), Is.EqualTo(ProductionRecords));
        }
        finally
        {
            TryDelete(work);
            // The unique version would otherwise pile up in the global packages folder run after run.
            TryDelete(Path.Combine(GlobalPackagesFolder(), "chroma", version));
        }
    }

    private const string ConsumerProgram = """
        using Chroma;

        // A user's app: log training and production embeddings, flush, report what was delivered.
        await using var chroma = new ChromaClient(new Uri(args[0]));
        var set = chroma.GetEmbeddingSet(new EmbeddingSetDescriptor("consumer", "1.0", "fc", dimension: 3));
        for (var i = 0; i < 30; i++)
        {
            set.LogTraining([i, 1f, 0f], label: (i % 2).ToString());
        }

        for (var i = 0; i < 20; i++)
        {
            set.LogProduction([i, 0f, 1f], predictedClass: "1");
        }

        await chroma.FlushAsync();
        Console.WriteLine($"exported {chroma.Statistics.Exported}");
        return chroma.Statistics.Exported == 50 ? 0 : 1;
        """;

    private static void AssertPackageContents(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        var names = zip.Entries.Select(e => e.FullName).ToList();
        Assert.That(names, Does.Contain("lib/net10.0/Chroma.dll").And.Contain("lib/net10.0/Chroma.xml").And.Contain("README.md"));
        using var nuspec = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        var metadata = XDocument.Load(nuspec).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string? Value(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;
        var dependencies = Dependencies(metadata);
        Assert.Multiple(() =>
        {
            Assert.That(dependencies, Has.None.StartsWith("Microsoft.ML").And.None.StartsWith("Microsoft.Extensions.AI"), "the core package's dependencies");
            Assert.That(dependencies, Does.Contain("Grpc.Net.Client"));
            Assert.That(Value("license"), Is.EqualTo("Apache-2.0"));
            Assert.That(Value("readme"), Is.EqualTo("README.md"));
            Assert.That(Value("description"), Is.Not.Empty);
        });
    }

    [Test]
    [CancelAfter(300_000)]
    public async Task Pack_TorchSharpAdapter_DependsOnTorchSharpNotABackendNorPinnedExtras(CancellationToken cancellationToken)
    {
        var repository = FindRepositoryRoot();
        var feed = Path.Combine(Path.GetTempPath(), "chroma-pack-torch-" + Guid.NewGuid().ToString("N"));
        try
        {
            await DotnetCommand.RunCheckedAsync(repository, cancellationToken,
                "pack", Path.Combine(repository, "src", "Chroma.TorchSharp", "Chroma.TorchSharp.csproj"), "-c", "Release", "-o", feed, "-p:Version=0.0.1-torchdeps", "-nologo");

            using var zip = ZipFile.OpenRead(Path.Combine(feed, "Chroma.TorchSharp.0.0.1-torchdeps.nupkg"));
            using var nuspec = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
            var metadata = XDocument.Load(nuspec).Root!.Elements().Single(e => e.Name.LocalName == "metadata");

            // The application picks the libtorch backend (TorchSharp-cpu, TorchSharp-cuda-linux...); pins made for
            // this repository's own build (SkiaSharp, SharpZipLib) are not the package's dependencies.
            var dependencies = Dependencies(metadata);
            Assert.That(dependencies, Does.Contain("Chroma").And.Contain("TorchSharp"));
            Assert.That(dependencies, Has.None.StartsWith("TorchSharp-").And.None.StartsWith("libtorch").And.No.EqualTo("SkiaSharp").And.No.EqualTo("SharpZipLib"));
        }
        finally
        {
            TryDelete(feed);
        }
    }

    /// <summary>The package ids a nuspec depends on (all target-framework groups).</summary>
    private static List<string> Dependencies(XElement metadata) =>
        [.. metadata.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => e.Attribute("id")!.Value).Distinct()];

    internal static void WriteNuGetConfig(string repositoryConfig, string target, string feed)
    {
        // The repository's sources (offline-safe: whatever the build itself restores from) plus the temp feed.
        var config = XDocument.Load(repositoryConfig);
        var sources = config.Root!.Element("packageSources") ?? throw new InvalidOperationException("nuget.config has no packageSources");
        sources.Add(new XElement("add", new XAttribute("key", "chroma-test-feed"), new XAttribute("value", feed)));
        config.Save(target);
    }

    internal static void AddPackageReference(string project, string package, string version)
    {
        var document = XDocument.Load(project);
        document.Root!.Add(new XElement("ItemGroup",
            new XElement("PackageReference", new XAttribute("Include", package), new XAttribute("Version", version))));
        document.Save(project);
    }

    internal static string GlobalPackagesFolder() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES")
        ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    internal static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Chroma.Sdk.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Chroma.Sdk.sln not found above " + AppContext.BaseDirectory);
    }

    internal static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
            // Left for the OS to clean: a leftover temp folder must not fail the test.
        }
    }
}
