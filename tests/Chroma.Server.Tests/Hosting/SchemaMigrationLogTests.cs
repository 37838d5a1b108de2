using Chroma.Server.Storage.Sqlite.Internal;
using Chroma.Server.Tests.Reliability;
using Chroma.Server.Tests.Storage;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.Logging;

namespace Chroma.Server.Tests.Hosting;

/// <summary>A start that migrates the data says so once (event 36): an upgrade is for good, an older server no longer starts on it.</summary>
[TestFixture]
public sealed class SchemaMigrationLogTests
{
    private const int SchemaMigratedEvent = 36;

    [Test, CancelAfter(60_000)]
    public async Task Start_SqliteDatabaseOfAnEarlierSchema_LogsOneInformationLineWithBothVersions()
    {
        // Arrange
        using var directory = new TempDirectory();
        await OldSchemaDatabase.CreateAsync(directory.Path);

        // Act
        await using var server = await LoggedServer.StartAsync(o => { o.DataDirectory = directory.Path; o.Web.Enabled = false; }, LogLevel.Information);

        // Assert
        var migrated = server.Logs.Entries.Where(e => e.Event.Id == SchemaMigratedEvent).ToList();
        Assert.That(migrated, Has.Count.EqualTo(1));
        Assert.Multiple(() =>
        {
            Assert.That(migrated[0].Level, Is.EqualTo(LogLevel.Information));
            Assert.That(migrated[0].Message, Does.Contain($"SQLite database {Path.Combine(directory.Path, "chroma.db")} migrated from schema version {OldSchemaDatabase.Version} to {SqliteSchema.CurrentVersion} in "));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Start_NewAndCurrentDatabase_LogsNoMigration()
    {
        // Arrange: a first start creates the database (nothing older to tell about), a second finds it current.
        using var directory = new TempDirectory();
        await using (var first = await LoggedServer.StartAsync(o => { o.DataDirectory = directory.Path; o.Web.Enabled = false; }, LogLevel.Information))
        {
            Assert.That(first.Logs.Entries.Where(e => e.Event.Id == SchemaMigratedEvent), Is.Empty, "created, not migrated");
        }

        // Act
        await using var second = await LoggedServer.StartAsync(o => { o.DataDirectory = directory.Path; o.Web.Enabled = false; }, LogLevel.Information);

        // Assert
        Assert.That(second.Logs.Entries.Where(e => e.Event.Id == SchemaMigratedEvent), Is.Empty);
    }
}
