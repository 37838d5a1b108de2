using System.Buffers.Binary;
using Chroma.Server.Validation;

namespace Chroma.Server.Services.Internal;

/// <summary>
/// Page tokens of the listings that page by sequence (GetRecords, GetLabeledRecords, GetReviewHistory): the last
/// sequence of the previous page in a <see cref="PageTokenEnvelope"/>, which ties it to its call and query and
/// checks it. Sequences only grow, so a token stays valid while records are added or deleted.
/// </summary>
internal static class PageToken
{
    /// <summary>The token for the page of a <paramref name="kind"/> listing after <paramref name="lastSequence"/>.</summary>
    public static string Encode(PageTokenKind kind, ulong query, long lastSequence)
    {
        Span<byte> payload = stackalloc byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(payload, lastSequence);
        return PageTokenEnvelope.Seal(kind, query, payload);
    }

    /// <summary>
    /// The sequence a token continues after (0 for an empty token), or an InvalidArgument error when it is not a
    /// token of this call (<paramref name="kind"/>) and query (<paramref name="query"/>, over <paramref name="queryFields"/>).
    /// </summary>
    public static (long AfterSequence, ValidationError? Error) Decode(string token, PageTokenKind kind, ulong query, string queryFields)
    {
        if (token.Length == 0)
        {
            return (0, null);
        }

        Span<byte> payload = stackalloc byte[sizeof(long)];
        if (PageTokenEnvelope.Open(token, kind, query, queryFields, payload) is { } error)
        {
            return (0, error);
        }

        var sequence = BinaryPrimitives.ReadInt64LittleEndian(payload);
        return sequence < 0
            ? (0, ValidationError.Invalid("page_token: is not a token this server issued"))
            : (sequence, null);
    }

    /// <summary>The query of a GetRecords listing: its set and filter.</summary>
    public static ulong RecordsQuery(string setId, Storage.RecordSelection selection) =>
        new QueryFingerprint().Add(setId).Add(selection.Dataset).Add(selection.Metadata).Value;

    /// <summary>The query of a GetLabeledRecords listing: its set.</summary>
    public static ulong LabeledQuery(string setId) => new QueryFingerprint().Add(setId).Value;

    /// <summary>The query of a GetReviewHistory listing: its set and record (empty for the whole set).</summary>
    public static ulong HistoryQuery(string setId, string recordId) =>
        new QueryFingerprint().Add(setId).Add(RecordIdFormat.Normalize(recordId)).Value;
}
