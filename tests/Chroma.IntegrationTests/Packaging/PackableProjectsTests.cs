namespace Chroma.IntegrationTests.Packaging;

/// <summary>
/// What ships is decided by a project's place in the repository, not by its absolute path: a clone under a folder
/// named <c>src</c> (<c>~/src/chroma</c>) must not make tests and samples packable (they have no XML docs, so
/// <c>dotnet pack</c> would fail on CS1591).
/// </summary>
[TestFixture]
[Category("packaging")]
public sealed class PackableProjectsTests
{
    [Test]
    [CancelAfter(180_000)]
    public async Task IsPackable_CloneUnderAFolderNamedSrc_OnlyProjectsUnderTheRepositorysSrcAre(CancellationToken cancellationToken)
    {
        var repository = PackageConsumerTests.FindRepositoryRoot();
        var clone = Path.Combine(Path.GetTempPath(), "chroma-clone-" + Guid.NewGuid().ToString("N"), "src", "chroma");
        try
        {
            // The build settings and the two kinds of project are all evaluation needs.
            string[] files =
            [
                "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "global.json", "nuget.config",
                "src/Chroma/Chroma.csproj", "tests/Chroma.Tests/Chroma.Tests.csproj", "samples/Chroma.Samples.QuickStart/Chroma.Samples.QuickStart.csproj",
            ];
            foreach (var file in files)
            {
                var target = Path.Combine(clone, file);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(Path.Combine(repository, file), target);
            }

            var packable = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var project in files.Where(f => f.EndsWith(".csproj", StringComparison.Ordinal)))
            {
                // One -getProperty prints the bare value.
                var value = await DotnetCommand.RunCheckedAsync(clone, cancellationToken, "msbuild", project, "-getProperty:IsPackable", "-nologo");
                packable[project] = value.Trim();
            }

            Assert.That(packable, Is.EqualTo(new Dictionary<string, string>
            {
                ["src/Chroma/Chroma.csproj"] = "true",
                ["tests/Chroma.Tests/Chroma.Tests.csproj"] = "false",
                ["samples/Chroma.Samples.QuickStart/Chroma.Samples.QuickStart.csproj"] = "false",
            }));
        }
        finally
        {
            PackageConsumerTests.TryDelete(Path.GetDirectoryName(Path.GetDirectoryName(clone))!);
        }
    }
}
