using System.Buffers.Binary;
using Chroma.Server.Recommendations.Serving;
using Chroma.Server.Validation;

namespace Chroma.Server.Services.Internal;

/// <summary>
/// GetRecommendations' page tokens: the offset of the next page and the ranking the pages are cut from
/// (<see cref="RankingAnchor"/>: fingerprints of its content, the same on every replica that serves it), in a
/// <see cref="PageTokenEnvelope"/> that ties the token to the query (strategy, dataset, metadata filter, all_scores,
/// diversity, include_reviewed) and checks it. The next page comes from the same ranking (the current one, or one
/// <see cref="PinnedRankings"/> keeps), whichever replica is asked, and a damaged token, or a token of another call
/// or another query, is refused instead of serving a wrong page.
/// </summary>
internal static class RecommendationPageToken
{
    /// <summary>The request fields <see cref="QueryHash"/> covers, for the error message.</summary>
    public const string QueryFields = "set_id, strategy, filter, diversity, all_scores or include_reviewed";

    private const int PayloadLength = 3 * sizeof(long);

    /// <summary>The token for the page at <paramref name="offset"/> of the ranking <paramref name="anchor"/> names.</summary>
    public static string Encode(long offset, RankingAnchor anchor, ulong queryHash)
    {
        Span<byte> payload = stackalloc byte[PayloadLength];
        BinaryPrimitives.WriteInt64LittleEndian(payload, offset);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[8..], anchor.Scores);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[16..], anchor.Excluded);
        return PageTokenEnvelope.Seal(PageTokenKind.GetRecommendations, queryHash, payload);
    }

    /// <summary>
    /// What a token of the query <paramref name="queryHash"/> says (offset 0 and no anchor for an empty token), or an
    /// InvalidArgument error.
    /// </summary>
    public static (long Offset, RankingAnchor? Anchor, ValidationError? Error) Decode(string token, ulong queryHash)
    {
        if (token.Length == 0)
        {
            return (0, null, null);
        }

        Span<byte> payload = stackalloc byte[PayloadLength];
        if (PageTokenEnvelope.Open(token, PageTokenKind.GetRecommendations, queryHash, QueryFields, payload) is { } error)
        {
            return (0, null, error);
        }

        var offset = BinaryPrimitives.ReadInt64LittleEndian(payload);
        var anchor = new RankingAnchor(BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]), BinaryPrimitives.ReadUInt64LittleEndian(payload[16..]));
        return offset <= 0
            ? (0, null, ValidationError.Invalid("page_token: is not a token this server issued"))
            : (offset, anchor, null);
    }

    /// <summary>A <see cref="QueryFingerprint"/> of what decides a ranking's order and content; the page size is not part of it.</summary>
    public static ulong QueryHash(
        string setId, Recommendations.RecommendationStrategy strategy, string dataset, IReadOnlyDictionary<string, string> metadata, bool allScores, Recommendations.Diversity diversity, bool includeReviewed)
    {
        ArgumentNullException.ThrowIfNull(setId);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(metadata);
        return new QueryFingerprint()
            .Add(setId)
            .Add((long)strategy)
            .Add(dataset)
            .Add(allScores ? 1 : 0)
            .Add((long)diversity)
            .Add(includeReviewed ? 1 : 0)
            .Add(metadata)
            .Value;
    }
}
