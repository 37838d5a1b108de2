using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Chroma.Server.Security;

namespace Chroma.Server.Web.Internal;

/// <summary>
/// Studio's sign-in: the browser posts the server's API key once, gets a random session token in an
/// HttpOnly, SameSite=Strict cookie and never holds the key itself. Sessions live in memory (a restart
/// signs everyone out) for <see cref="Lifetime"/>.
/// </summary>
internal sealed class StudioSessions
{
    /// <summary>The cookie carrying the session token.</summary>
    public const string CookieName = "chroma_studio";

    /// <summary>How long a session lasts after sign-in.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    private const int MaxSessions = 10_000;

    private readonly ApiKeyInterceptor _keys;
    private readonly TimeProvider _time;

    // Keyed by the SHA-256 of the token, so the tokens themselves are not kept.
    private readonly ConcurrentDictionary<string, DateTimeOffset> _sessions = new(StringComparer.Ordinal);

    /// <summary>Creates the sessions of a server whose API key <paramref name="keys"/> checks.</summary>
    public StudioSessions(ApiKeyInterceptor keys, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(keys);
        KeyRequired = keys.KeyRequired;
        _keys = keys;
        _time = time;
    }

    /// <summary>Gets whether the server has an API key (else every browser is signed in).</summary>
    public bool KeyRequired { get; }

    /// <summary>Starts a session when <paramref name="key"/> is the server's key; returns its token, or null.</summary>
    public string? SignIn(string? key)
    {
        if (!KeyRequired || !_keys.IsValidKey(key))
        {
            return null;
        }

        var now = _time.GetUtcNow();
        if (_sessions.Count >= MaxSessions)
        {
            foreach (var expired in _sessions.Where(s => s.Value <= now).Select(s => s.Key).ToList())
            {
                _sessions.TryRemove(expired, out _);
            }
        }

        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        _sessions[Digest(token)] = now + Lifetime;
        return token;
    }

    /// <summary>Whether the request may read data: no key configured, or a live session cookie.</summary>
    public bool IsSignedIn(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!KeyRequired)
        {
            return true;
        }

        if (!context.Request.Cookies.TryGetValue(CookieName, out var token) || string.IsNullOrEmpty(token))
        {
            return false;
        }

        var digest = Digest(token);
        if (!_sessions.TryGetValue(digest, out var expires))
        {
            return false;
        }

        if (expires > _time.GetUtcNow())
        {
            return true;
        }

        _sessions.TryRemove(digest, out _);
        return false;
    }

    /// <summary>Ends the session of the request's cookie, if any.</summary>
    public void SignOut(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Request.Cookies.TryGetValue(CookieName, out var token) && !string.IsNullOrEmpty(token))
        {
            _sessions.TryRemove(Digest(token), out _);
        }
    }

    private static string Digest(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
