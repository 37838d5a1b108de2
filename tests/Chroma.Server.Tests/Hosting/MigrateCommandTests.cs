using Chroma.Server.Hosting.Internal;
using Chroma.Server.Storage.Sqlite.Internal;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Hosting;

/// <summary><c>chroma-server migrate</c>: its help connects to nothing, a bad setting exits as a server start would (5), a SQLite directory is migrated.</summary>
[TestFixture]
public sealed class MigrateCommandTests
{
    private readonly TempDirectory _directory = new();

    [OneTimeTearDown]
    public void DeleteDirectory() => _directory.Dispose();

    [Test, CancelAfter(30_000)]
    public async Task MigrateAsync_Help_PrintsUsageExitCode0AndCreatesNothing()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await StandaloneServer.MigrateAsync(["--help", $"--Chroma:DataDirectory={_directory.Path}/help"], output, error);

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Zero);
            Assert.That(output.ToString(), Does.StartWith("chroma-server migrate"));
            Assert.That(Directory.Exists(Path.Combine(_directory.Path, "help")), Is.False, "nothing was opened");
        });
    }

    [TestCase("--Chroma:Storage:Provider=Postgress", "'Postgress' is not valid; it takes one of Sqlite, Postgres")]
    [TestCase("--Chroma:Storage:Provider=Postgres", "Chroma:Storage:ConnectionString (Chroma__Storage__ConnectionString) must be set")]
    [TestCase("--Chroma:Storage:ConnectionString=Host=db", "Chroma:Storage:Provider (Chroma__Storage__Provider) is Sqlite")]
    [CancelAfter(30_000)]
    public async Task MigrateAsync_BadStorageSetting_ExitCode5NamingIt(string argument, string named)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await StandaloneServer.MigrateAsync([argument, $"--Chroma:DataDirectory={_directory.Path}/bad"], output, error);

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(5), error.ToString());
            Assert.That(error.ToString(), Does.Contain(named));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task MigrateAsync_SqliteDirectory_ExitCode0AtTheCurrentVersion()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await StandaloneServer.MigrateAsync([$"--Chroma:DataDirectory={_directory.Path}/sqlite"], output, error);

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Zero, error.ToString());
            Assert.That(output.ToString(), Does.Contain($"schema at version {SqliteSchema.CurrentVersion}"));
        });
    }
}
