using Chroma.Server.Storage.Internal;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Storage;

/// <summary>
/// Checks a Chroma database without changing it: first the write-ahead log (damaged frames that would make SQLite
/// silently drop committed transactions, see <see cref="WalFileScan"/>), then SQLite's own check of every page
/// (<c>quick_check</c>, or <c>integrity_check</c> in <see cref="IntegrityCheckMode.Full"/>) on a read-only connection.
/// The store runs it at start after an unclean shutdown; <c>chroma-server check</c> runs it on demand.
/// </summary>
internal static class DatabaseIntegrityCheck
{
    // SQLite lists at most this many problems; the first few say enough.
    private const int MaxProblems = 5;

    /// <summary>Checks <paramref name="databasePath"/>; returns the problems found (empty when intact).</summary>
    /// <exception cref="FileNotFoundException">There is no database at <paramref name="databasePath"/>.</exception>
    public static IReadOnlyList<string> Run(string databasePath, IntegrityCheckMode mode)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        if (mode == IntegrityCheckMode.Off)
        {
            return [];
        }

        if (!File.Exists(databasePath))
        {
            throw new FileNotFoundException($"there is no database at \"{databasePath}\"", databasePath);
        }

        var wal = WalFileScan.Scan(databasePath + "-wal");

        // A running server may restart its log while it is read (new frames over old ones): damage counts only when a
        // second read sees the same.
        if (wal.HidesCommittedData && WalFileScan.Scan(databasePath + "-wal") == wal)
        {
            // Opening it would let SQLite discard those transactions (and a checkpoint would make that final): stop here.
            return
            [
                wal.HeaderValid
                    ? FormattableString.Invariant($"the write-ahead log \"{databasePath}-wal\" is damaged at frame {wal.ValidFrames + 1} of {wal.Frames}: {wal.LostCommits} committed transactions after it would be lost")
                    : FormattableString.Invariant($"the write-ahead log \"{databasePath}-wal\" has a damaged header: {wal.LostCommits} committed transactions in it would be lost"),
            ];
        }

        return RunSqliteCheck(databasePath, mode);
    }

    /// <summary>One line for a damaged database: the file, the first problems, and what to do.</summary>
    public static string Describe(string databasePath, IReadOnlyList<string> problems) =>
        $"the database \"{databasePath}\" failed its integrity check: {string.Join("; ", problems.Select(p => p.TrimEnd('.')))}. "
        + "Nothing was changed; restore the data directory from a backup, or move it away to start empty";

    private static List<string> RunSqliteCheck(string databasePath, IntegrityCheckMode mode)
    {
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString();
        var problems = new List<string>();
        try
        {
            using var connection = new SqliteConnection(connectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = mode == IntegrityCheckMode.Full
                ? $"PRAGMA integrity_check({MaxProblems});"
                : $"PRAGMA quick_check({MaxProblems});";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var line = reader.GetString(0);
                if (!string.Equals(line, "ok", StringComparison.Ordinal))
                {
                    problems.Add(line.ReplaceLineEndings(" "));
                }
            }
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is 11 or 26)
        {
            // SQLITE_CORRUPT, SQLITE_NOTADB: not readable as a database at all.
            problems.Add(ex.Message.ReplaceLineEndings(" "));
        }

        return problems;
    }
}
