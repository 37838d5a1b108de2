namespace Chroma.Server.Hosting;

/// <summary>
/// The one exception <see cref="ChromaServer.StartAsync"/> throws when a server cannot start: its message is one line
/// that names the setting or file at fault; <see cref="Failure"/> says which kind of problem it is.
/// </summary>
public sealed class ChromaServerStartException : Exception
{
    /// <summary>Creates the exception with the default kind (<see cref="ChromaServerStartFailure.Setting"/>).</summary>
    public ChromaServerStartException()
    {
    }

    /// <summary>Creates the exception with a message (kind <see cref="ChromaServerStartFailure.Setting"/>).</summary>
    /// <param name="message">One line naming the setting or file.</param>
    public ChromaServerStartException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause (kind <see cref="ChromaServerStartFailure.Setting"/>).</summary>
    /// <param name="message">One line naming the setting or file.</param>
    /// <param name="innerException">The underlying error.</param>
    public ChromaServerStartException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="failure">The kind of problem.</param>
    /// <param name="message">One line naming the setting or file.</param>
    /// <param name="innerException">The underlying error, or <see langword="null"/>.</param>
    public ChromaServerStartException(ChromaServerStartFailure failure, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
    }

    /// <summary>Gets the kind of problem. The default value is <see cref="ChromaServerStartFailure.Setting"/>.</summary>
    public ChromaServerStartFailure Failure { get; } = ChromaServerStartFailure.Setting;

    /// <summary>Gets the process exit code the standalone server uses for this failure (5 to 9).</summary>
    public int ExitCode => (int)Failure;
}
