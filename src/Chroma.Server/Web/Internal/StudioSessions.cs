using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Chroma.Server.Security;

namespace Chroma.Server.Web.Internal;

/// <summary>
/// Studio's sign-in: the browser posts the server's API key once, gets a session token in an HttpOnly,
/// SameSite=Strict cookie and never holds the key itself. A token is its expiry (<see cref="Lifetime"/>) and a random
/// nonce, signed (HMAC-SHA256) with a secret derived from the API key: valid across restarts and on every replica with
/// the same key, void when the key changes. Signing out voids the token until it expires on every server sharing the
/// store and after restarts (<see cref="ISignOutStore"/>; the browser drops the cookie too).
/// </summary>
internal sealed class StudioSessions
{
    /// <summary>The cookie carrying the session token.</summary>
    public const string CookieName = "chroma_studio";

    /// <summary>How long a session lasts after sign-in.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    /// <summary>Wrong keys one address may send to the sign-in within <see cref="SignInWindow"/> before it gets 429.</summary>
    public const int SignInFailuresAllowed = 5;

    /// <summary>How long wrong sign-in keys count against an address.</summary>
    public static readonly TimeSpan SignInWindow = TimeSpan.FromMinutes(1);

    private const int MaxSignedOut = 10_000;
    private const int ExpiryBytes = 8;
    private const int NonceBytes = 16;
    private const int MacBytes = 32;

    // The length of a token's base64url spelling, unpadded: 56 bytes make 75 characters.
    private const int TokenChars = ((ExpiryBytes + NonceBytes + MacBytes) * 8 + 5) / 6;

    private readonly ApiKeyCheck _keys;
    private readonly TimeProvider _time;
    private readonly ISignOutStore _store;
    private readonly byte[]? _secret;

    // Tokens signed out through this server, keyed by their digest (Digest), with their expiry: answered without a read
    // of the store, and refused here even when the store could not be written.
    private readonly ConcurrentDictionary<string, DateTimeOffset> _signedOut = new(StringComparer.Ordinal);

    /// <summary>
    /// Creates the sessions of a server whose API key <paramref name="keys"/> checks; sign-outs are kept in
    /// <paramref name="store"/>.
    /// </summary>
    public StudioSessions(ApiKeyCheck keys, TimeProvider time, ISignOutStore store)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(store);
        KeyRequired = keys.KeyRequired;
        _keys = keys;
        _time = time;
        _store = store;
        _secret = keys.DeriveSecret("chroma-studio-session-v1");
        Throttle = new WrongKeyThrottle(time, SignInFailuresAllowed, SignInWindow);
    }

    /// <summary>Gets the limit on wrong keys per address.</summary>
    public WrongKeyThrottle Throttle { get; }

    /// <summary>Counts a sign-in refused for its key, or throttled (said in the log at most once a minute).</summary>
    public void Rejected(System.Net.IPAddress? address) => _keys.ReportRejected("Studio sign-in", address);

    /// <summary>Gets whether Studio needs a sign-in (the server has an API key).</summary>
    public bool KeyRequired { get; }

    /// <summary>
    /// A session token for a correct key, or null. The token carries its expiry and is signed with a secret derived
    /// from the API key, so it stays valid across a restart of the server and on every replica with the same key (a
    /// session held only in memory ended with each restart, and the next action sent the user to the sign-in page).
    /// </summary>
    public string? SignIn(string? key)
    {
        if (!KeyRequired || !_keys.IsCurrentKey(key))
        {
            return null;
        }

        var token = new byte[ExpiryBytes + NonceBytes + MacBytes];
        BinaryPrimitives.WriteInt64LittleEndian(token, (_time.GetUtcNow() + Lifetime).ToUnixTimeMilliseconds());
        RandomNumberGenerator.Fill(token.AsSpan(ExpiryBytes, NonceBytes));
        HMACSHA256.HashData(_secret, token.AsSpan(0, ExpiryBytes + NonceBytes), token.AsSpan(ExpiryBytes + NonceBytes));
        return Base64Url.EncodeToString(token);
    }

    /// <summary>
    /// Whether the request carries a valid session cookie (always true without a key): well formed, signed with this
    /// key, not expired, and not signed out through any server sharing the <see cref="ISignOutStore"/>.
    /// </summary>
    public async Task<bool> IsSignedInAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!KeyRequired)
        {
            return true;
        }

        if (!context.Request.Cookies.TryGetValue(CookieName, out var token) || Verify(token) is not { } bytes || Expiry(bytes) <= _time.GetUtcNow())
        {
            return false;
        }

        var digest = Digest(bytes);
        return !_signedOut.ContainsKey(digest) && !await _store.ContainsAsync(digest, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// Ends the session of the request's cookie, if any: refused here at once, and on every server sharing the
    /// <see cref="ISignOutStore"/> (and after restarts) once the store has it (the browser drops the cookie too).
    /// </summary>
    public async Task SignOutAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Request.Cookies.TryGetValue(CookieName, out var token) || Verify(token) is not { } bytes)
        {
            return;
        }

        var expires = Expiry(bytes);
        var now = _time.GetUtcNow();
        if (_signedOut.Count >= MaxSignedOut)
        {
            foreach (var expired in _signedOut.Where(s => s.Value <= now).Select(s => s.Key).ToList())
            {
                _signedOut.TryRemove(expired, out _);
            }
        }

        var digest = Digest(bytes);
        _signedOut[digest] = expires;
        if (expires > now)
        {
            await _store.AddAsync(digest, expires, now, context.RequestAborted).ConfigureAwait(false);
        }
    }

    // The bytes of a token signed with this server's secret, or null. Only the spelling SignIn issues is accepted: the
    // base64url decoder takes padding and ignores the 2 unused low bits of the last character, so 8 spellings of each
    // token decoded to the same signed bytes, and a sign-out, kept by digest, voided only the one spelling it was sent
    // with (probe S, S1). Re-encoding the decoded bytes and comparing refuses every other spelling.
    private byte[]? Verify(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length != TokenChars || _secret is null)
        {
            return null;
        }

        var bytes = new byte[ExpiryBytes + NonceBytes + MacBytes];
        // DecodeFromChars answers a status where TryDecodeFromChars throws on a character outside the alphabet.
        if (Base64Url.DecodeFromChars(token, bytes, out _, out var written) != OperationStatus.Done || written != bytes.Length
            || !string.Equals(Base64Url.EncodeToString(bytes), token, StringComparison.Ordinal))
        {
            return null;
        }

        Span<byte> mac = stackalloc byte[MacBytes];
        HMACSHA256.HashData(_secret, bytes.AsSpan(0, ExpiryBytes + NonceBytes), mac);
        return CryptographicOperations.FixedTimeEquals(mac, bytes.AsSpan(ExpiryBytes + NonceBytes)) ? bytes : null;
    }

    private static DateTimeOffset Expiry(byte[] token) => DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(token));

    // The key of a signed-out token in memory and in the store: the SHA-256 of the token's canonical spelling, computed
    // from its bytes, so every spelling of one token has the same digest. It is the digest earlier servers stored (they
    // hashed the cookie as sent, which for a browser is the token as issued), so sign-outs stored before this version
    // still hold.
    private static string Digest(byte[] token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Base64Url.EncodeToString(token))));
}
