using Chroma.Protocol.V1;

namespace Chroma.Server.Storage;

/// <summary>A page of stored records.</summary>
/// <param name="Records">The records, in sequence order.</param>
/// <param name="HasMore">Whether records follow the last one of this page.</param>
internal sealed record RecordPage(IReadOnlyList<StoredRecord> Records, bool HasMore);
