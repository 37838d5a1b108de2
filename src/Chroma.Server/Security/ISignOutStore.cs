namespace Chroma.Server.Security;

/// <summary>
/// Studio sessions signed out before they expired, kept where every server sharing the store reads them and a restart
/// keeps them (the server's SQLite file, or the PostgreSQL database its replicas share). A session token is valid on
/// every server with the same API key until it expires (<see cref="Web.Internal.StudioSessions"/>), so a sign-out held
/// only in one server's memory left a copied cookie valid on the other replicas and again after a restart.
/// </summary>
/// <remarks>
/// Only the SHA-256 of a token (of its canonical spelling, whatever spelling was sent) is kept, never the token. Rows whose token has expired are deleted with the next
/// sign-out, so the table holds at most the sign-outs of one session lifetime.
/// </remarks>
internal interface ISignOutStore
{
    /// <summary>
    /// Keeps <paramref name="tokenDigest"/> as signed out until <paramref name="expires"/> (the token's own expiry) and
    /// deletes the rows that expired by <paramref name="now"/>.
    /// </summary>
    Task AddAsync(string tokenDigest, DateTimeOffset expires, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Whether <paramref name="tokenDigest"/> was signed out (through any server sharing the store).</summary>
    Task<bool> ContainsAsync(string tokenDigest, CancellationToken cancellationToken = default);
}
