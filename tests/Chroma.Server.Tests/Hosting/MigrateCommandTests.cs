using Chroma.Server.Hosting;
using Chroma.Server.Hosting.Internal;
using Chroma.Server.Storage.Sqlite.Internal;
using Chroma.Server.Tests.Storage;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Hosting;

/// <summary>
/// <c>chroma-server migrate</c>: its help connects to nothing, a bad setting exits as a server start would (5), a SQLite
/// directory is migrated and the output says from which version, and a directory a server holds is left alone (9).
/// </summary>
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
    public async Task MigrateAsync_NewSqliteDirectoryTwice_SaysCreatedThenAlreadyAtTheCurrentVersion()
    {
        var directory = Path.Combine(_directory.Path, "sqlite");

        var (created, createdOutput, createdError) = await MigrateAsync(directory);
        var (again, againOutput, againError) = await MigrateAsync(directory);

        Assert.Multiple(() =>
        {
            Assert.That(created, Is.Zero, createdError);
            Assert.That(createdOutput, Does.Contain($"created at schema version {SqliteSchema.CurrentVersion}"));
            Assert.That(again, Is.Zero, againError);
            Assert.That(againOutput, Does.Contain($"already at schema version {SqliteSchema.CurrentVersion}"));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task MigrateAsync_SqliteDatabaseOfAnEarlierSchema_SaysMigratedFromItToTheCurrentOnce()
    {
        // Arrange: the data of a server of schema 2 (November), stopped.
        var directory = Path.Combine(_directory.Path, "old");
        await OldSchemaDatabase.CreateAsync(directory);

        // Act
        var (first, firstOutput, firstError) = await MigrateAsync(directory);
        var (second, secondOutput, _) = await MigrateAsync(directory);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(first, Is.Zero, firstError);
            Assert.That(firstOutput, Does.Contain($"{Path.Combine(directory, "chroma.db")}: migrated from schema version {OldSchemaDatabase.Version} to {SqliteSchema.CurrentVersion} in "));
            Assert.That(OldSchemaDatabase.ReadVersion(directory), Is.EqualTo(SqliteSchema.CurrentVersion));
            Assert.That(second, Is.Zero);
            Assert.That(secondOutput, Does.Contain($"already at schema version {SqliteSchema.CurrentVersion}").And.Not.Contain("migrated"));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task MigrateAsync_ServerRunningOnTheDirectory_ExitCode9NamingTheLockAndNothingMigrated()
    {
        // Arrange: a real server serving the directory. Its schema row is set back under it, as an older server's data
        // would be: a migrate that went ahead would bring it to the current version (and an older server, once stopped,
        // would no longer start on it).
        var directory = Path.Combine(_directory.Path, "running");
        await using var server = await RunningServer.StartAsync(directory);
        OldSchemaDatabase.Execute(directory, "UPDATE schema_version SET version = 5;");

        // Act
        var (code, output, error) = await MigrateAsync(directory);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo((int)ChromaServerStartFailure.DataDirectory).And.EqualTo(9), error);
            Assert.That(error, Does.Contain($"the data directory \"{directory}\" is in use by another Chroma server").And.Contain("chroma.lock").And.Contain("stop that server, then run migrate again"));
            Assert.That(output, Is.Empty);
            Assert.That(OldSchemaDatabase.ReadVersion(directory), Is.EqualTo(5), "not migrated");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task MigrateAsync_ServerStoppedAfterwards_MigratesAndReleasesTheLockForTheNextServer()
    {
        // Arrange: the lock is the server's only while it runs.
        var directory = Path.Combine(_directory.Path, "stopped");
        await (await RunningServer.StartAsync(directory)).DisposeAsync();

        // Act
        var (code, _, error) = await MigrateAsync(directory);
        await using var next = await RunningServer.StartAsync(directory);

        // Assert: the next server started on the directory (it would have been refused had migrate kept the lock).
        Assert.That(code, Is.Zero, error);
    }

    private static async Task<(int Code, string Output, string Error)> MigrateAsync(string dataDirectory)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await StandaloneServer.MigrateAsync([$"--Chroma:DataDirectory={dataDirectory}"], output, error).WaitAsync(TimeSpan.FromSeconds(30));
        return (code, output.ToString(), error.ToString());
    }
}
