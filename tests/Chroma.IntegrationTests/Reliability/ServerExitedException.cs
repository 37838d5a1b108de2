namespace Chroma.IntegrationTests.Reliability;

/// <summary>The server process exited while it was starting; <see cref="ExitCode"/> says why (the README's exit-code table).</summary>
public sealed class ServerExitedException : InvalidOperationException
{
    /// <summary>Creates the exception for a start that ended with <paramref name="exitCode"/>, quoting the last lines it wrote.</summary>
    public ServerExitedException(int exitCode, IReadOnlyList<string>? lastLines = null)
        : base($"the server process exited with code {exitCode} while starting"
            + (lastLines is { Count: > 0 } ? "; its last lines:" + Environment.NewLine + string.Join(Environment.NewLine, lastLines) : string.Empty))
        => ExitCode = exitCode;

    /// <summary>Creates the exception with a message only (exit code 0).</summary>
    public ServerExitedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause (exit code 0).</summary>
    public ServerExitedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception (exit code 0).</summary>
    public ServerExitedException()
    {
    }

    /// <summary>Gets the process's exit code.</summary>
    public int ExitCode { get; }
}
