namespace Chroma.Server.Storage;

/// <summary>
/// The database could not complete a write (I/O failure, lost connection, server down): nothing of
/// it was committed and a retry may succeed. Services answer <c>Unavailable</c>.
/// </summary>
internal sealed class StoreUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StoreUnavailableException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public StoreUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the database's own exception.</summary>
    public StoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
