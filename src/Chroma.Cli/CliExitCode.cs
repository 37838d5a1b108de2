using Chroma.Server.Hosting;

namespace Chroma.Server.Cli;

/// <summary>
/// Exit codes of <c>chroma-server</c>, so scripts can tell failures apart: 0-4 for commands, 5-9 for a server that
/// could not start (the values of <see cref="ChromaServerStartFailure"/>). Listed by <c>chroma-server help</c> and in the README.
/// </summary>
internal static class CliExitCode
{
    /// <summary>The command did what it was asked (or the server stopped cleanly; <c>check</c>: the database is intact).</summary>
    public const int Success = 0;

    /// <summary>The server answered with an error (unknown set, bad argument, ...).</summary>
    public const int ServerError = 1;

    /// <summary>The command line was wrong (unknown command, missing or bad option).</summary>
    public const int Usage = 2;

    /// <summary>The server could not be reached (a failed TLS handshake included), or is not healthy.</summary>
    public const int Unreachable = 3;

    /// <summary>The server does not offer what was asked (for example recommendations on an older server).</summary>
    public const int NotAvailable = 4;

    /// <summary>The database failed its integrity check (<c>check</c>, or a server start).</summary>
    public const int DatabaseDamaged = (int)ChromaServerStartFailure.Database;

    /// <summary>Every exit code with its meaning, in order.</summary>
    public static IReadOnlyList<(int Code, string Meaning)> Meanings { get; } =
    [
        (Success, "done; the server stopped cleanly; check: the database is intact"),
        (ServerError, "the server answered with an error"),
        (Usage, "bad command line: unknown command, missing or bad option"),
        (Unreachable, "the server is not reachable (a failed TLS handshake included), or not serving"),
        (NotAvailable, "the server does not offer this (e.g. no recommendations for the set yet, or recommend --wait ran out before the ranking covered every acknowledged record)"),
        ((int)ChromaServerStartFailure.Setting, "the server did not start: a bad setting (named)"),
        ((int)ChromaServerStartFailure.Certificate, "the server did not start: the TLS certificate could not be read (missing file, wrong or missing password, no key, a key that is not the certificate's; the setting is named)"),
        ((int)ChromaServerStartFailure.Database, "the database is damaged (failed its integrity check, or not a database); check: damage found"),
        ((int)ChromaServerStartFailure.Address, "the server did not start: the port is taken or not permitted, or the host is not an address of this machine"),
        ((int)ChromaServerStartFailure.DataDirectory, "the server did not start: the data directory cannot be created, opened or written, or another server holds it"),
    ];
}
