using System.Globalization;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Postgres.Internal;
using Chroma.Server.Storage.Sqlite;
using Chroma.Server.Storage.Internal;
using Chroma.Server.Storage.Sqlite.Internal;
using Microsoft.Extensions.Options;

namespace Chroma.Server.Hosting.Internal;

/// <summary>
/// <c>chroma-server migrate</c>: brings the configured database's schema to this server's version and
/// exits, reading the same configuration as the server (appsettings.json, <c>Chroma__*</c> environment
/// variables, <c>--Chroma:...</c> arguments). Servers migrate on start too; this lets a deployment do it
/// first, once. On PostgreSQL it takes the same advisory lock, so it is safe while servers start. On SQLite it takes the
/// data directory's lock (<see cref="DataDirectoryLock"/>) as a server does: a server running on the directory (which
/// would go on writing, and after the migration not start again if it is older) makes it refuse, changing nothing.
/// </summary>
internal static class MigrateCommand
{
    /// <summary>The command's name.</summary>
    public const string Name = "migrate";

    /// <summary>What <c>chroma-server migrate --help</c> prints (it connects to nothing).</summary>
    public const string Usage =
        "chroma-server migrate [--Chroma:Name=value ...]  brings the configured database's schema (SQLite in Chroma:DataDirectory, or PostgreSQL: " +
        "Chroma__Storage__Provider=Postgres and Chroma__Storage__ConnectionString) to this server's version and exits; servers also migrate on start. " +
        "It says what it did: migrated from schema version N to M, created at M, or already at M. " +
        "Exit codes as for a server start: 0 done, 5 a bad or unreachable setting, 7 a database written by a newer server, " +
        "9 a data directory it cannot use or one a running server holds (SQLite: stop the server first).";

    /// <summary>
    /// Migrates; returns 0 on success, else the exit code a server start gives for the same failure (5 for a bad or
    /// unreachable setting, 7 for a database written by a newer server, 9 for a data directory it cannot use; 1 for
    /// anything else), after a message that says why.
    /// </summary>
    public static int Run(ChromaServerOptions options, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        try
        {
            // Only the settings migrate reads: where the data is and which database holds it.
            ThrowIfInvalid(new ChromaServerOptionsValidator().Validate(null, options), typeof(ChromaServerOptions));
            ThrowIfInvalid(new StorageOptionsValidator().Validate(null, options.Storage), typeof(StorageOptions));
            if (options.Storage.Provider == StorageProvider.Postgres)
            {
                var builder = PostgresConnection.Parse(options.Storage.ConnectionString);
                using var dataSource = PostgresConnection.CreateDataSource(options.Storage.ConnectionString);
                IReadOnlyList<int> applied = [];
                var started = TimeProvider.System.GetTimestamp();
                PostgresConnection.Check(
                    dataSource,
                    options.Storage.ConnectionString!,
                    options.Storage.StartupTimeout,
                    TimeProvider.System,
                    (attempt, reason, pause) => error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"chroma-server migrate: PostgreSQL does not accept connections yet, or cut one during the migration (attempt {attempt}: {reason}); trying again in {pause.TotalSeconds:F2} s")),
                    () => applied = PostgresSchema.Migrate(dataSource));
                var migration = PostgresSchema.Describe(applied, TimeProvider.System.GetElapsedTime(started));
                var versions = applied.Count == 0 ? string.Empty : $" (applied {string.Join(", ", applied)})";
                output.WriteLine($"PostgreSQL {PostgresConnection.Describe(builder)}: {migration.Describe()}{versions}");
            }
            else
            {
                // Held while the file is migrated, as a server holds it while it serves; a server started meanwhile is refused.
                using var dataLock = DataDirectoryLock.Acquire(options.DataDirectory, InUseAdvice);
                using var database = SqliteDatabase.Open(options.DataDirectory, TimeProvider.System);
                output.WriteLine($"SQLite {Path.Combine(database.DataDirectory, SqliteDatabase.FileName)}: {database.Migration.Describe()}");
            }

            return 0;
        }
        catch (Exception ex) when (ex is ChromaServerStartException or StorageStartException or OptionsValidationException or ArgumentException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            var failure = StartFailureClassifier.Classify(ex, options);
            error.WriteLine("chroma-server migrate: " + (failure?.Message ?? ex.Message));
            return failure?.ExitCode ?? 1;
        }
    }

    // What DataDirectoryLock's refusal advises here: not another directory (a server's advice), but the server stopped.
    private const string InUseAdvice = "stop that server, then run migrate again (a server also migrates its database when it starts)";

    private static void ThrowIfInvalid(ValidateOptionsResult result, Type optionsType)
    {
        if (result.Failed)
        {
            throw new OptionsValidationException(Microsoft.Extensions.Options.Options.DefaultName, optionsType, result.Failures);
        }
    }
}
