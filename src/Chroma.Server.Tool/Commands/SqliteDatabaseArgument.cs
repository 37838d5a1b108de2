using Chroma.Server.Storage.Sqlite;

namespace Chroma.Server.Cli.Commands;

/// <summary>
/// The SQLite database the offline commands (<c>check</c>, <c>backup</c>) read: <c>chroma.db</c> in <c>--data-directory</c>,
/// else <c>Chroma__DataDirectory</c>, else <c>./chroma-data</c>; a usage error that says why when there is none.
/// </summary>
internal static class SqliteDatabaseArgument
{
    /// <summary>
    /// The full path of the database; throws <see cref="CliUsageException"/> when the directory holds none, saying whether
    /// the directory was missing or a PostgreSQL server's (whose data <paramref name="postgresTools"/> look after).
    /// </summary>
    public static string Resolve(CliContext context, string command, string postgresTools)
    {
        ArgumentNullException.ThrowIfNull(context);
        var passed = context.Arguments.Get("data-directory");
        var directory = Path.GetFullPath(passed ?? Environment.GetEnvironmentVariable("Chroma__DataDirectory") ?? "chroma-data");
        var databasePath = Path.Combine(directory, SqliteDatabase.FileName);
        if (File.Exists(databasePath))
        {
            return databasePath;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("Chroma__Storage__Provider"), "Postgres", StringComparison.OrdinalIgnoreCase))
        {
            throw new CliUsageException(
                $"{command} reads the SQLite database file; with Chroma__Storage__Provider=Postgres the records are in PostgreSQL, which its own tools {Verb(command)} ({postgresTools})");
        }

        // Only when the directory came from the default or the environment is naming another one the likely fix.
        var where = passed is null ? " (pass --data-directory to name the server's data directory)" : string.Empty;
        if (!Directory.Exists(directory))
        {
            throw new CliUsageException($"the data directory \"{directory}\" does not exist{where}");
        }

        throw new CliUsageException(
            $"there is no SQLite database ({SqliteDatabase.FileName}) in \"{directory}\"{where}; a server that stores in PostgreSQL "
            + $"(Chroma__Storage__Provider=Postgres) keeps no database there: its data is in PostgreSQL, which its own tools {Verb(command)} ({postgresTools})");
    }

    private static string Verb(string command) => command == "backup" ? "back up" : command;
}
