using System.Text.Json;
using Chroma.Server.Cli;
using Chroma.Server.Storage.Sqlite.Internal;
using Chroma.Server.Tests.Storage;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Cli;

/// <summary><c>check</c> names the database's schema version and what this version's server would do to it, changing nothing.</summary>
[TestFixture]
public sealed class CheckSchemaVersionTests
{
    [Test]
    [CancelAfter(60_000)]
    public async Task Check_DatabaseOfAnEarlierSchema_NamesItsVersionAndTheMigrationAheadAndLeavesIt()
    {
        // Arrange
        using var directory = new TempDirectory();
        await OldSchemaDatabase.CreateAsync(directory.Path);

        // Act
        var text = await CliRun.RunAsync("check", "--data-directory", directory.Path);
        var json = await CliRun.RunAsync("check", "--data-directory", directory.Path, "--json");

        // Assert
        using var document = JsonDocument.Parse(json.Output);
        Assert.Multiple(() =>
        {
            Assert.That(text.ExitCode, Is.EqualTo(CliExitCode.Success), text.Error);
            Assert.That(text.Console, Does.Contain($"intact {Path.Combine(directory.Path, "chroma.db")} (quick check), schema version {OldSchemaDatabase.Version}: this server migrates it to {SqliteSchema.CurrentVersion}"));
            Assert.That(document.RootElement.GetProperty("schemaVersion").GetInt32(), Is.EqualTo(OldSchemaDatabase.Version));
            Assert.That(document.RootElement.GetProperty("serverSchemaVersion").GetInt32(), Is.EqualTo(SqliteSchema.CurrentVersion));
            Assert.That(OldSchemaDatabase.ReadVersion(directory.Path), Is.EqualTo(OldSchemaDatabase.Version), "check changes nothing");
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Check_CurrentDatabase_NamesTheCurrentVersion()
    {
        using var directory = new TempDirectory();
        await (await RunningServer.StartAsync(directory.Path)).DisposeAsync();

        var run = await CliRun.RunAsync("check", "--data-directory", directory.Path);

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        Assert.That(run.Console, Does.Contain($"(quick check), schema version {SqliteSchema.CurrentVersion}, this server's"));
    }
}
