namespace Chroma.Server.Cli;

/// <summary>The command line is wrong: a missing option, a bad value or an unknown command.</summary>
internal sealed class CliUsageException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CliUsageException()
    {
    }

    /// <summary>Creates the exception with a message that names the offending option.</summary>
    public CliUsageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public CliUsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
