namespace Chroma.Server.Storage;

/// <summary>
/// The configured database cannot be used (bad connection string, unreachable, refused login, newer
/// schema): the server does not start. The message names the setting and never holds a password.
/// </summary>
internal sealed class StorageStartException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StorageStartException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public StorageStartException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public StorageStartException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
