using System.Globalization;
using Chroma.Server.Hosting.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Postgres.Internal;
using Chroma.Server.Tests.Reliability;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Chroma.Server.Tests.Storage;

/// <summary>
/// A start or <c>migrate</c> that migrates a PostgreSQL database says from which version to which. The older database is
/// this one with its last version taken back out of <c>chroma_schema_migrations</c>: every step is written to run again
/// over itself (IF NOT EXISTS, OR REPLACE), as one cut by a PostgreSQL restart is.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class PostgresSchemaMigrationLogTests : PostgresDatabaseTest
{
    private static readonly int Previous = PostgresSchema.CurrentVersion - 1;

    [Test, CancelAfter(120_000)]
    public async Task Open_DatabaseOfThePreviousSchema_LogsOneInformationLineWithBothVersions()
    {
        // Arrange
        await SetBackOneVersionAsync();
        var logs = new CapturingLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Information));
        var options = new StorageOptions { Provider = StorageProvider.Postgres, ConnectionString = Database.ConnectionString };

        // Act
        using (StorageOpener.Open(Database.Directory.Path, options, Clock, RecordChangeObservers.None, logger: loggers.CreateLogger("StorageOpener")))
        {
        }

        using (StorageOpener.Open(Database.Directory.Path, options, Clock, RecordChangeObservers.None, logger: loggers.CreateLogger("StorageOpener")))
        {
        }

        // Assert: the first start migrated and said so; the second found nothing to do and said nothing.
        var migrated = logs.Entries.Where(e => e.Event.Id == 36).ToList();
        Assert.That(migrated, Has.Count.EqualTo(1));
        Assert.Multiple(() =>
        {
            Assert.That(migrated[0].Level, Is.EqualTo(LogLevel.Information));
            Assert.That(migrated[0].Message, Does.StartWith("PostgreSQL database Host=")
                .And.Contain(string.Create(CultureInfo.InvariantCulture, $"migrated from schema version {Previous} to {PostgresSchema.CurrentVersion} in ")));
            Assert.That(migrated[0].Message, Does.Not.Contain("Password"));
        });
    }

    [Test, CancelAfter(120_000)]
    public async Task MigrateAsync_DatabaseOfThePreviousSchema_SaysMigratedFromItThenAlreadyAtTheCurrent()
    {
        // Arrange
        await SetBackOneVersionAsync();
        string[] args = ["--Chroma:Storage:Provider=Postgres", $"--Chroma:Storage:ConnectionString={Database.ConnectionString}", $"--Chroma:DataDirectory={Database.Directory.Path}"];

        // Act
        using var first = new StringWriter();
        using var second = new StringWriter();
        using var error = new StringWriter();
        var firstCode = await StandaloneServer.MigrateAsync(args, first, error).WaitAsync(TimeSpan.FromSeconds(60));
        var secondCode = await StandaloneServer.MigrateAsync(args, second, error).WaitAsync(TimeSpan.FromSeconds(60));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That((firstCode, secondCode), Is.EqualTo((0, 0)), error.ToString());
            Assert.That(first.ToString(), Does.Contain(string.Create(CultureInfo.InvariantCulture,
                $"migrated from schema version {Previous} to {PostgresSchema.CurrentVersion} in ")).And.Contain($"(applied {PostgresSchema.CurrentVersion})"));
            Assert.That(second.ToString(), Does.Contain($"already at schema version {PostgresSchema.CurrentVersion}"));
        });
    }

    private async Task SetBackOneVersionAsync()
    {
        using var dataSource = PostgresConnection.CreateDataSource(Database.ConnectionString);
        PostgresSchema.Migrate(dataSource);
        await using var command = dataSource.CreateCommand($"DELETE FROM chroma_schema_migrations WHERE version = {PostgresSchema.CurrentVersion};");
        await command.ExecuteNonQueryAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }
}
