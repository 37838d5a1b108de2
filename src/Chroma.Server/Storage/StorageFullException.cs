namespace Chroma.Server.Storage;

/// <summary>
/// A write failed because the disk (or the database's size limit) is full, or because the file system refused it
/// (<see cref="Unwritable"/>); nothing of it was stored.
/// </summary>
internal sealed class StorageFullException : Exception
{
    /// <summary>
    /// Gets a value indicating whether the file system refused the write (read-only, failing) rather than lacking space;
    /// ingest refuses batches alike until a write succeeds again.
    /// </summary>
    public bool Unwritable { get; init; }

    /// <summary>Creates the exception.</summary>
    public StorageFullException()
    {
    }

    /// <summary>Creates the exception with a message naming the data directory.</summary>
    /// <param name="message">What could not be stored, and where.</param>
    public StorageFullException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the store's own error.</summary>
    /// <param name="message">What could not be stored, and where.</param>
    /// <param name="innerException">The store's error (for SQLite, <c>SQLITE_FULL</c>).</param>
    public StorageFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
