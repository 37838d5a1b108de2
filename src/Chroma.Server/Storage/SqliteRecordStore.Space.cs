using Microsoft.Data.Sqlite;

namespace Chroma.Server.Storage;

/// <summary>
/// Storage full: a commit that fails with <c>SQLITE_FULL</c> fails its batches with <see cref="StorageFullException"/>
/// and marks <see cref="StorageSpace"/> full; the next successful commit (or probe write) marks it writable again.
/// </summary>
internal sealed partial class SqliteRecordStore
{
    private const int SqliteFull = 13;

    /// <summary>
    /// Gets or sets a fault the writer raises just before each commit (and probe write) when it returns an exception:
    /// lets tests inject <c>SQLITE_FULL</c> into the real write path. The default value is <see langword="null"/>.
    /// </summary>
    internal Func<Exception?>? CommitFault { get; set; }

    /// <summary>Gets the space state this store reports into.</summary>
    internal StorageSpace Space => _space;

    private static bool IsStorageFull(Exception exception) => exception is SqliteException { SqliteErrorCode: SqliteFull };

    private long? FreeBytes()
    {
        try
        {
            return new DriveInfo(Path.GetDirectoryName(_writer.DataSource)!).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    private void CommitWithFaults(SqliteTransaction transaction)
    {
        if (CommitFault?.Invoke() is { } fault)
        {
            throw fault;
        }

        transaction.Commit();
    }

    // What the group would have added to the log, roughly: the vectors twice over (table and log pages), plus row overhead.
    private static long EstimateBytes(List<Internal.PendingIngest> group) =>
        group.Sum(p => (long)p.Records.Count * ((p.Descriptor.Dimension * 4L * 2) + 512));

    private StorageFullException StorageFull(Exception exception, long neededBytes)
    {
        _space.ReportFull(neededBytes);
        return new StorageFullException(
            $"the disk holding \"{Path.GetDirectoryName(_writer.DataSource)}\" is full: the batch was not stored", exception);
    }

    // First the file system's free space against what the failed write needed; then a one-row rewrite, which still
    // appends a page to the WAL and syncs it (and goes through the injected fault, like a commit).
    private async Task<bool> ProbeWritableAsync(CancellationToken cancellationToken)
    {
        if (FreeBytes() is { } free && free < _space.NeededBytes)
        {
            return false;
        }

        using var write = await EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var transaction = _writer.BeginTransaction();
            using (var command = _writer.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = "UPDATE schema_version SET version = version;";
                command.ExecuteNonQuery();
            }

            CommitWithFaults(transaction);
            _space.ReportWritten();
            return true;
        }
        catch (Exception ex) when (IsStorageFull(ex))
        {
            return false;
        }
    }
}
