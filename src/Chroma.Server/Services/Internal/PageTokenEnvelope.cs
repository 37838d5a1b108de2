using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.IO.Hashing;
using Chroma.Server.Validation;

namespace Chroma.Server.Services.Internal;

/// <summary>
/// What every page token the server issues is made of, base64url: a format byte, the call it belongs to
/// (<see cref="PageTokenKind"/>), the <see cref="QueryFingerprint"/> of the request that got it, the call's own
/// payload (where the next page starts) and a check: XXH3-64 of all that. A token altered or cut when copied fails
/// the check, and one sent to another call or with another query is refused, each with InvalidArgument saying
/// which, instead of answering a wrong or empty page as if the listing had ended.
/// </summary>
/// <remarks>
/// The check is an unkeyed checksum: it guards against damage and misuse, not forgery (a client that wants another
/// page can ask for it anyway; a token only says where a listing stands). Unkeyed, it needs no secret, so a token is
/// good on every replica of one database and across restarts.
/// </remarks>
internal static class PageTokenEnvelope
{
    private const byte Format = 4;
    private const int HeaderLength = 2 + sizeof(ulong);
    private const int CheckLength = sizeof(ulong);
    // Room for the longest payload: a set id of ListSets (386 characters, up to 3 UTF-8 bytes each).
    private const int MaxLength = 1280;

    /// <summary>The token for <paramref name="payload"/> of a <paramref name="kind"/> listing with fingerprint <paramref name="query"/>.</summary>
    public static string Seal(PageTokenKind kind, ulong query, ReadOnlySpan<byte> payload)
    {
        Span<byte> bytes = stackalloc byte[HeaderLength + payload.Length + CheckLength];
        bytes[0] = Format;
        bytes[1] = (byte)kind;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[2..], query);
        payload.CopyTo(bytes[HeaderLength..]);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[^CheckLength..], XxHash3.HashToUInt64(bytes[..^CheckLength]));
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>
    /// Checks a non-empty <paramref name="token"/> against the call and query it is sent with and copies its payload
    /// into <paramref name="payload"/> (whose length is the call's payload length); null, or the InvalidArgument error.
    /// </summary>
    /// <param name="token">The page_token sent.</param>
    /// <param name="kind">The call it was sent to.</param>
    /// <param name="query">The fingerprint of the request it was sent with.</param>
    /// <param name="queryFields">The request fields the fingerprint covers, for the error message.</param>
    /// <param name="payload">Receives the payload.</param>
    public static ValidationError? Open(string token, PageTokenKind kind, ulong query, string queryFields, Span<byte> payload) =>
        Open(token, kind, query, queryFields, payload, exactLength: true, out _);

    /// <summary>
    /// As <see cref="Open(string, PageTokenKind, ulong, string, Span{byte})"/> for a call whose payload varies in length:
    /// the payload, or the InvalidArgument error.
    /// </summary>
    public static (byte[] Payload, ValidationError? Error) OpenVariable(string token, PageTokenKind kind, ulong query, string queryFields)
    {
        Span<byte> payload = stackalloc byte[MaxLength];
        var error = Open(token, kind, query, queryFields, payload, exactLength: false, out var length);
        return error is null ? (payload[..length].ToArray(), null) : ([], error);
    }

    private static ValidationError? Open(
        string token, PageTokenKind kind, ulong query, string queryFields, Span<byte> payload, bool exactLength, out int payloadLength)
    {
        payloadLength = 0;
        Span<byte> bytes = stackalloc byte[MaxLength];
        if (Base64Url.DecodeFromChars(token, bytes, out _, out var written) != OperationStatus.Done)
        {
            return NotIssued;
        }

        bytes = bytes[..written];
        if (!IsIssuedSpelling(token, bytes))
        {
            // The decoder also takes '=' padding, whitespace and other values of a last character's unused bits: one
            // token, one spelling, so a token that was altered on the way is refused rather than read as another.
            return NotIssued;
        }

        if (EarlierFormat(bytes))
        {
            return EarlierServer;
        }

        if (written < HeaderLength + CheckLength || bytes[0] != Format)
        {
            return NotIssued;
        }

        if (BinaryPrimitives.ReadUInt64LittleEndian(bytes[^CheckLength..]) != XxHash3.HashToUInt64(bytes[..^CheckLength]))
        {
            return Damaged;
        }

        var issuedFor = (PageTokenKind)bytes[1];
        if (issuedFor != kind)
        {
            return Enum.IsDefined(issuedFor)
                ? ValidationError.Invalid($"page_token: is a token of another call ({issuedFor}); pass the next_page_token of a {kind} response with the same request")
                : NotIssued;
        }

        payloadLength = written - HeaderLength - CheckLength;
        if (exactLength ? payloadLength != payload.Length : payloadLength > payload.Length)
        {
            return NotIssued;
        }

        if (BinaryPrimitives.ReadUInt64LittleEndian(bytes[2..]) != query)
        {
            return ValidationError.Invalid(
                $"page_token: was issued for another query ({queryFields} differ); ask for the next page with the first page's query, or start again without a token");
        }

        bytes[HeaderLength..^CheckLength].CopyTo(payload);
        return null;
    }

    // Whether `token` is the base64url spelling Seal gives `bytes` (unpadded, unused bits zero, nothing else).
    private static bool IsIssuedSpelling(string token, ReadOnlySpan<byte> bytes)
    {
        Span<char> spelling = stackalloc char[Base64Url.GetEncodedLength(MaxLength)];
        return Base64Url.TryEncodeToChars(bytes, spelling, out var length) && spelling[..length].SequenceEqual(token);
    }

    // Tokens of servers before the check: format 1 (sequence listings), 2 and 3 (GetRecommendations), at their lengths.
    private static bool EarlierFormat(ReadOnlySpan<byte> bytes) => (bytes.Length, bytes.IsEmpty ? 0 : bytes[0]) is (9, 1) or (41, 2) or (33, 3);

    private static ValidationError NotIssued => ValidationError.Invalid("page_token: is not a token this server issued");

    private static ValidationError Damaged => ValidationError.Invalid(
        "page_token: is damaged (its check does not match its content: altered, or cut short when copied); pass next_page_token exactly as received, or start again without a token");

    private static ValidationError EarlierServer => ValidationError.Invalid(
        "page_token: was issued by an earlier version of the server, whose tokens carry no check of their content and query; start again from the first page");
}
