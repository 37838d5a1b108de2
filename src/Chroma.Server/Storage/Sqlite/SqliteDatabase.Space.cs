using Microsoft.Data.Sqlite;

namespace Chroma.Server.Storage.Sqlite;

/// <summary>
/// Storage full: a commit that fails with <c>SQLITE_FULL</c> fails its batches with <see cref="StorageFullException"/>
/// and marks <see cref="StorageSpace"/> full; the next successful commit (or probe write) marks it writable again.
/// </summary>
internal sealed partial class SqliteDatabase
{
    private const int SqliteFull = 13;
    private const int SqliteReadOnly = 8;
    private const int SqliteIoError = 10;

    /// <summary>
    /// Gets or sets a fault the writer raises just before each commit (and probe write) when it returns an exception:
    /// lets tests inject <c>SQLITE_FULL</c> into the real write path. The default value is <see langword="null"/>.
    /// </summary>
    internal Func<Exception?>? CommitFault { get; set; }

    /// <summary>Gets the space state this database reports into.</summary>
    internal StorageSpace Space { get; }

    /// <summary>Whether <paramref name="exception"/> is SQLite's "database or disk is full".</summary>
    public static bool IsStorageFull(Exception exception) => exception is SqliteException { SqliteErrorCode: SqliteFull };

    /// <summary>
    /// Whether <paramref name="exception"/> is a write the file system refused: SQLite's "disk I/O error" (what a file
    /// system remounted read-only after an error gives) or "attempt to write a readonly database".
    /// </summary>
    public static bool IsUnwritable(Exception exception) => exception is SqliteException { SqliteErrorCode: SqliteIoError or SqliteReadOnly };

    /// <summary>Commits <paramref name="transaction"/>, raising the injected <see cref="CommitFault"/> first when set.</summary>
    public void CommitWithFaults(SqliteTransaction transaction)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        if (CommitFault?.Invoke() is { } fault)
        {
            throw fault;
        }

        transaction.Commit();
    }

    /// <summary>Marks the space full and describes it as the exception the failed batches get.</summary>
    public StorageFullException StorageFull(Exception exception, long neededBytes)
    {
        Space.ReportFull(neededBytes);
        return new StorageFullException(
            $"the disk holding \"{DataDirectory}\" is full: the batch was not stored", exception);
    }

    /// <summary>Marks the space unwritable and describes it, with a cause to look for, as the exception the failed batches get.</summary>
    public StorageFullException Unwritable(Exception exception)
    {
        Space.ReportUnwritable();
        return new StorageFullException(
            $"the data directory \"{DataDirectory}\" cannot be written ({exception.Message}); is its file system read-only or failing? The batch was not stored",
            exception)
        { Unwritable = true };
    }

    private long? FreeBytes()
    {
        try
        {
            return new DriveInfo(DataDirectory).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    // First the file system's free space against what the failed write needed; then a one-row rewrite, which still
    // appends a page to the WAL and syncs it (and goes through the injected fault, like a commit).
    private async Task<bool> ProbeWritableAsync(CancellationToken cancellationToken)
    {
        if (FreeBytes() is { } free && free < Space.NeededBytes)
        {
            return false;
        }

        using var write = await EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var transaction = Writer.BeginTransaction();
            using (var command = Writer.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = "UPDATE schema_version SET version = version;";
                command.ExecuteNonQuery();
            }

            CommitWithFaults(transaction);
            Space.ReportWritten();
            return true;
        }
        catch (Exception ex) when (IsStorageFull(ex) || IsUnwritable(ex))
        {
            return false;
        }
    }
}
