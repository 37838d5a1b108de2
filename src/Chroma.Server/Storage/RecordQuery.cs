namespace Chroma.Server.Storage;

/// <summary>One page of records in sequence order.</summary>
/// <param name="Selection">Which records.</param>
/// <param name="AfterSequence">Only records with a larger sequence (0 = from the start).</param>
/// <param name="Limit">Page size.</param>
/// <param name="IncludeEmbeddings">Whether to load embeddings (they dominate the size).</param>
internal sealed record RecordQuery(RecordSelection Selection, long AfterSequence, int Limit, bool IncludeEmbeddings);
