using System.Globalization;
using Chroma.Server.Storage.Sqlite;
using Chroma.Server.Storage.Sqlite.Internal;
using Chroma.Server.Cli.Internal;
using Chroma.Server.Storage;
using Spectre.Console;

namespace Chroma.Server.Cli.Commands;

/// <summary>
/// <c>check</c>: the integrity check a server runs after an unclean shutdown, on demand and offline (no server needed;
/// nothing is changed). Exit code 0 when the database is intact, 7 when it is damaged. An intact database's schema
/// version is named too, with what this version's server would do to it (an upgrade is for good).
/// </summary>
internal sealed class CheckCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "check";

    /// <inheritdoc />
    public string Usage => "check [--data-directory DIR] [--full] [--json]: integrity of the SQLite database (default DIR: Chroma__DataDirectory or ./chroma-data); exit code 0 intact, 7 damaged; PostgreSQL is checked with its own tools (amcheck, pg_dump)";

    /// <inheritdoc />
    public async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var databasePath = SqliteDatabaseArgument.Resolve(context, Name, "amcheck, pg_dump");

        var mode = context.Arguments.Get("full") is not null ? IntegrityCheckMode.Full : IntegrityCheckMode.Quick;
        var problems = await Task.Run(() => DatabaseIntegrityCheck.Run(databasePath, mode), cancellationToken).ConfigureAwait(false);

        // Only of an intact database: a damaged one may not answer, and its damage is the news.
        int? schemaVersion = problems.Count == 0 ? SqliteSchema.ReadVersion(databasePath) : null;
        if (context.Arguments.Json)
        {
            await CliJson.WriteLineAsync(
                context.Output,
                new { database = databasePath, mode = mode.ToString(), intact = problems.Count == 0, schemaVersion, serverSchemaVersion = SqliteSchema.CurrentVersion, problems }).ConfigureAwait(false);
        }
        else if (problems.Count == 0)
        {
            context.Console.MarkupLine(
                "[green]intact[/] {0} ({1} check), {2}", Markup.Escape(databasePath), mode.ToString().ToLowerInvariant(), Markup.Escape(DescribeSchema(schemaVersion!.Value)));
        }
        else
        {
            context.Console.MarkupLine("[red]damaged[/] {0}", Markup.Escape(databasePath));
            foreach (var problem in problems)
            {
                context.Console.MarkupLine("  {0}", Markup.Escape(problem));
            }
        }

        return problems.Count == 0 ? CliExitCode.Success : CliExitCode.DatabaseDamaged;
    }

    private static string DescribeSchema(int version) => version switch
    {
        SqliteSchema.CurrentVersion => string.Create(CultureInfo.InvariantCulture, $"schema version {version}, this server's"),
        < SqliteSchema.CurrentVersion => string.Create(CultureInfo.InvariantCulture,
            $"schema version {version}: this server migrates it to {SqliteSchema.CurrentVersion} when it starts on it (or with 'chroma-server migrate'), after which earlier versions no longer start on it"),
        _ => string.Create(CultureInfo.InvariantCulture,
            $"schema version {version}, written by a newer server: this one (schema {SqliteSchema.CurrentVersion}) does not start on it"),
    };
}
