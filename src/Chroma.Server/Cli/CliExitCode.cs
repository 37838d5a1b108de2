namespace Chroma.Server.Cli;

/// <summary>Exit codes of the CLI commands, so scripts can tell failures apart.</summary>
internal static class CliExitCode
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>The server answered with an error (unknown set, bad argument, ...).</summary>
    public const int ServerError = 1;

    /// <summary>The command line was wrong.</summary>
    public const int Usage = 2;

    /// <summary>The server could not be reached (or is not healthy).</summary>
    public const int Unreachable = 3;

    /// <summary>The server does not offer what was asked (for example recommendations on an older server).</summary>
    public const int NotAvailable = 4;
}
