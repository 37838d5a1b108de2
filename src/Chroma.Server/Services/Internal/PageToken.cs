using System.Buffers.Binary;
using Chroma.Server.Validation;

namespace Chroma.Server.Services.Internal;

/// <summary>
/// Opaque page tokens: a format byte and the last sequence of the previous page, base64url.
/// Sequences only grow, so a token stays valid while records are added or deleted.
/// </summary>
internal static class PageToken
{
    private const byte Format = 1;
    private const int Length = 1 + sizeof(long);

    /// <summary>The token for the page after <paramref name="lastSequence"/>.</summary>
    public static string Encode(long lastSequence)
    {
        Span<byte> bytes = stackalloc byte[Length];
        bytes[0] = Format;
        BinaryPrimitives.WriteInt64LittleEndian(bytes[1..], lastSequence);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>The sequence a token continues after (0 for an empty token), or an InvalidArgument error.</summary>
    public static (long AfterSequence, ValidationError? Error) Decode(string token)
    {
        if (token.Length == 0)
        {
            return (0, null);
        }

        var base64 = token.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
        Span<byte> bytes = stackalloc byte[RecommendationPageToken.Length + 3];
        if (!Convert.TryFromBase64String(base64, bytes, out var written))
        {
            return (0, ValidationError.Invalid("page_token: is not a token this server issued"));
        }

        // GetRecommendations' tokens, told apart so the answer can say whose token it is.
        if (written == RecommendationPageToken.Length && bytes[0] == RecommendationPageToken.Format)
        {
            return (0, ValidationError.Invalid("page_token: is a token of GetRecommendations; pass the next_page_token of this call's own previous response"));
        }

        if (written != Length || bytes[0] != Format)
        {
            return (0, ValidationError.Invalid("page_token: is not a token this server issued"));
        }

        var sequence = BinaryPrimitives.ReadInt64LittleEndian(bytes[1..]);
        return sequence < 0
            ? (0, ValidationError.Invalid("page_token: is not a token this server issued"))
            : (sequence, null);
    }
}
