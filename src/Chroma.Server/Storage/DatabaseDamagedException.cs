namespace Chroma.Server.Storage;

/// <summary>The database failed its integrity check: the store refuses to serve it. The message names the file and the damage.</summary>
internal sealed class DatabaseDamagedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DatabaseDamagedException()
    {
    }

    /// <summary>Creates the exception with a message naming the file and the damage.</summary>
    /// <param name="message">One line naming the file and the damage.</param>
    public DatabaseDamagedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">One line naming the file and the damage.</param>
    /// <param name="innerException">The underlying error.</param>
    public DatabaseDamagedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
