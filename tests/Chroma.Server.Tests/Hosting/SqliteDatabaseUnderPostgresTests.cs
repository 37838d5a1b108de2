using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Chroma.Server.Hosting;
using Chroma.Server.Hosting.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Sqlite;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.Logging;

namespace Chroma.Server.Tests.Hosting;

/// <summary>A PostgreSQL server on a data directory that holds a SQLite database says that it does not serve it.</summary>
[TestFixture]
public sealed class SqliteDatabaseUnderPostgresTests
{
    [Test, CancelAfter(60_000)]
    public async Task Open_PostgresOnDirectoryWithSqliteDatabase_WarnsNamingTheFile()
    {
        // Arrange: a real SQLite data directory, left by a server that ran on it.
        using var directory = new TempDirectory();
        await (await ChromaServer.StartAsync(new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = directory.Path, Web = { Enabled = false } })).DisposeAsync();
        var logger = new WarningLogger();

        // Act: PostgreSQL is not there (a closed port, no wait); the warning comes before the connection is tried.
        Assert.Throws<StorageStartException>(() => OpenPostgres(directory.Path, logger));

        // Assert
        Assert.That(logger.Warnings, Has.Count.EqualTo(1));
        Assert.That(logger.Warnings[0], Does.Contain(Path.Combine(directory.Path, SqliteRecordStore.FileName)).And.Contain("export").And.Contain("import"));
    }

    [Test, CancelAfter(30_000)]
    public void Open_PostgresOnEmptyDirectory_NoWarning()
    {
        // Arrange
        using var directory = new TempDirectory();
        var logger = new WarningLogger();

        // Act
        Assert.Throws<StorageStartException>(() => OpenPostgres(directory.Path, logger));

        // Assert
        Assert.That(logger.Warnings, Is.Empty);
    }

    private static void OpenPostgres(string dataDirectory, ILogger logger)
    {
        var storage = new StorageOptions
        {
            Provider = StorageProvider.Postgres,
            ConnectionString = string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={FreePort()};Database=chroma;Username=chroma;Timeout=3"),
            StartupTimeout = TimeSpan.Zero,
        };
        using var storageOpened = StorageOpener.Open(dataDirectory, storage, TimeProvider.System, new RecordChangeObservers(() => []), logger: logger);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class WarningLogger : ILogger
    {
        public List<string> Warnings { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning)
            {
                Warnings.Add(formatter(state, exception));
            }
        }
    }
}
