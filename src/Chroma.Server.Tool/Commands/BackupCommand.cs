using System.Diagnostics;
using System.Globalization;
using Chroma.Server.Cli.Internal;
using Chroma.Server.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Spectre.Console;

namespace Chroma.Server.Cli.Commands;

/// <summary>
/// <c>backup</c>: a consistent copy of the SQLite database (records, scores, labels, review states, audit trail), taken
/// while the server runs. SQLite's <c>VACUUM INTO</c> reads one snapshot, so writes that land during the copy are in
/// it entirely or not at all; the file appears under its name only when complete. Indexes are not copied: a server
/// started on a data directory holding only the copy builds them from it.
/// </summary>
internal sealed class BackupCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "backup";

    /// <inheritdoc />
    public string Usage => "backup --out FILE [--data-directory DIR] [--json]: a consistent copy of the SQLite database while the server runs (default DIR: Chroma__DataDirectory or ./chroma-data); restore by starting a server on an empty data directory holding the copy as chroma.db; PostgreSQL is backed up with its own tools (pg_dump)";

    /// <inheritdoc />
    public async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var target = Path.GetFullPath(context.Arguments.Require("out"));
        var source = SqliteDatabaseArgument.Resolve(context, Name, "pg_dump");

        if (File.Exists(target) || Directory.Exists(target))
        {
            throw new CliUsageException($"--out '{target}' already exists; name a new file (a backup never overwrites)");
        }

        if (Path.GetDirectoryName(target) is { } folder && !Directory.Exists(folder))
        {
            throw new CliUsageException($"--out '{target}': the folder '{folder}' does not exist");
        }

        if (string.Equals(target, source, StringComparison.Ordinal))
        {
            throw new CliUsageException("--out names the database itself");
        }

        var stopwatch = Stopwatch.StartNew();
        var partial = target + ".partial-" + Guid.NewGuid().ToString("N")[..8];
        BackupSummary summary;
        try
        {
            summary = context.Arguments.Json
                ? await Task.Run(() => Copy(source, partial), cancellationToken).ConfigureAwait(false)
                : await context.Console.Status().StartAsync(
                    Markup.Escape($"backing up {source}"),
                    _ => Task.Run(() => Copy(source, partial), cancellationToken)).ConfigureAwait(false);
            File.Move(partial, target);
        }
        finally
        {
            File.Delete(partial);
        }

        var bytes = new FileInfo(target).Length;
        if (context.Arguments.Json)
        {
            await CliJson.WriteLineAsync(context.Output, new { database = source, backup = target, bytes, summary.Records, summary.Labels, seconds = Math.Round(stopwatch.Elapsed.TotalSeconds, 3) }).ConfigureAwait(false);
        }
        else
        {
            context.Console.MarkupLine(
                "Backed up {0} to {1}: {2:N0} records, {3:N0} labels, {4:N1} MB in {5:N1} s",
                Markup.Escape(source), Markup.Escape(target), summary.Records, summary.Labels, bytes / 1e6, stopwatch.Elapsed.TotalSeconds);
        }

        return CliExitCode.Success;
    }

    // One read snapshot of the live database, written compacted to `partial`, then counted from the copy itself.
    private static BackupSummary Copy(string source, string partial)
    {
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = source,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
            DefaultTimeout = 60,
        }.ToString()))
        {
            connection.Open();

            // The copy holds everything the database does: created empty and owner-only first (VACUUM INTO writes into
            // an empty file, keeping its mode), as the server creates its own files.
            Chroma.Server.Security.OwnerOnlyFiles.CreateEmptyIfMissing(partial);
            using var vacuum = connection.CreateCommand();
            vacuum.CommandText = "VACUUM INTO $path";
            vacuum.Parameters.AddWithValue("$path", partial);
            vacuum.ExecuteNonQuery();
        }

        using var copy = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = partial, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        copy.Open();
        // Live records: a deleted one stays as a tombstone (so a re-send does not bring it back) but is no record.
        return new BackupSummary(Count(copy, "records", "deleted = 0"), Count(copy, "record_reviews", "label IS NOT NULL"));
    }

    // A table a server creates on first use (the reviews) counts 0 while missing.
    private static long Count(SqliteConnection connection, string table, string? where = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $table";
        command.Parameters.AddWithValue("$table", table);
        if (Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) == 0)
        {
            return 0;
        }

        command.Parameters.Clear();
        command.CommandText = $"SELECT count(*) FROM {table}" + (where is null ? string.Empty : " WHERE " + where);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private sealed record BackupSummary(long Records, long Labels);
}
