namespace Chroma.Server.Hosting;

/// <summary>
/// Why a Chroma server could not start. The standalone <c>chroma-server</c> exits with the code given for each value
/// (see the exit-code table in the README and in <c>chroma-server help</c>).
/// </summary>
public enum ChromaServerStartFailure
{
    /// <summary>A setting is missing, malformed or out of range (exit code 5).</summary>
    Setting = 5,

    /// <summary>
    /// The TLS certificate could not be read: missing file, wrong or missing password, no private key, a key that is not
    /// the certificate's (exit code 6). The message names the setting to change.
    /// </summary>
    Certificate = 6,

    /// <summary>The database is damaged, failed its integrity check, or was written by a newer server (exit code 7).</summary>
    Database = 7,

    /// <summary>The address could not be bound: the port is taken or not permitted, or the host is not an address of this machine (exit code 8).</summary>
    Address = 8,

    /// <summary>The data directory or database file could not be created, opened or written, or another server holds the directory (exit code 9).</summary>
    DataDirectory = 9,
}
