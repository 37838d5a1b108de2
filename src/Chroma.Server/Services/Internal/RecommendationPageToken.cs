using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using Chroma.Server.Recommendations.Serving;
using Chroma.Server.Validation;

namespace Chroma.Server.Services.Internal;

/// <summary>
/// GetRecommendations' page tokens: a format byte, the offset of the next page, the ranking the pages are cut from
/// (<see cref="RankingAnchor"/>: fingerprints of its content, the same on every replica that serves it) and a hash of the query (strategy, dataset, metadata filter, all_scores, diversity,
/// include_reviewed), base64url. The next page comes from the same ranking (the current one, or one
/// <see cref="PinnedRankings"/> keeps), whichever replica is asked, and a token
/// of another call or another query is refused instead of serving a wrong page.
/// </summary>
internal static class RecommendationPageToken
{
    /// <summary>The format byte of these tokens (PageToken's are 1).</summary>
    internal const byte Format = 3;

    /// <summary>The length of a decoded token, in bytes.</summary>
    internal const int Length = 1 + (4 * sizeof(long));

    // Format 2 (servers before the ranking's fingerprint): offset, revision, computed time, reviewed version, query.
    private const byte LocalRevisionFormat = 2;
    private const int LocalRevisionLength = 1 + (5 * sizeof(long));

    /// <summary>The token for the page at <paramref name="offset"/> of the ranking <paramref name="anchor"/> names.</summary>
    public static string Encode(long offset, RankingAnchor anchor, ulong queryHash)
    {
        Span<byte> bytes = stackalloc byte[Length];
        bytes[0] = Format;
        BinaryPrimitives.WriteInt64LittleEndian(bytes[1..], offset);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[9..], anchor.Scores);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[17..], anchor.Excluded);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[25..], queryHash);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>What a token says (offset 0 and no anchor for an empty token), or an InvalidArgument error.</summary>
    public static (long Offset, RankingAnchor? Anchor, ulong QueryHash, ValidationError? Error) Decode(string token)
    {
        if (token.Length == 0)
        {
            return (0, null, 0, null);
        }

        Span<byte> bytes = stackalloc byte[LocalRevisionLength + 3];
        if (Base64Url.DecodeFromChars(token, bytes, out _, out var written) != OperationStatus.Done)
        {
            return (0, null, 0, NotIssued);
        }

        if (written == LocalRevisionLength && bytes[0] == LocalRevisionFormat)
        {
            return (0, null, 0, EarlierServer);
        }

        if (written != Length || bytes[0] != Format)
        {
            // GetRecords, GetLabeledRecords and GetReviewHistory page by sequence with tokens of format 1.
            return (0, null, 0, PageToken.Decode(token).Error is null ? OtherCall : NotIssued);
        }

        var offset = BinaryPrimitives.ReadInt64LittleEndian(bytes[1..]);
        var anchor = new RankingAnchor(BinaryPrimitives.ReadUInt64LittleEndian(bytes[9..]), BinaryPrimitives.ReadUInt64LittleEndian(bytes[17..]));
        return offset <= 0 ? (0, null, 0, NotIssued) : (offset, anchor, BinaryPrimitives.ReadUInt64LittleEndian(bytes[25..]), null);
    }

    /// <summary>A hash of what decides a ranking's order and content (FNV-1a, 64 bits); the page size is not part of it.</summary>
    public static ulong QueryHash(
        string setId, Recommendations.RecommendationStrategy strategy, string dataset, IReadOnlyDictionary<string, string> metadata, bool allScores, Recommendations.Diversity diversity, bool includeReviewed)
    {
        ArgumentNullException.ThrowIfNull(setId);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(metadata);
        var hash = 14695981039346656037UL;
        void Add(string text)
        {
            foreach (var c in text)
            {
                hash = (hash ^ c) * 1099511628211UL;
            }

            hash = (hash ^ 0x1F) * 1099511628211UL; // between fields (unit separator)
        }

        Add(setId);
        Add(((int)strategy).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add(dataset);
        Add(allScores ? "all" : "ranked");
        Add(((int)diversity).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add(includeReviewed ? "reviewed" : "unreviewed");
        foreach (var (key, value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            Add(key);
            Add(value);
        }

        return hash;
    }

    private static ValidationError NotIssued => ValidationError.Invalid("page_token: is not a token this server issued");

    private static ValidationError EarlierServer =>
        ValidationError.Invalid("page_token: was issued by an earlier version of the server, whose tokens name a ranking differently; start again from the first page");

    private static ValidationError OtherCall =>
        ValidationError.Invalid("page_token: is a token of another call (GetRecords, GetLabeledRecords or GetReviewHistory); pass the next_page_token of a GetRecommendations response");
}
