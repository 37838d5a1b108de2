namespace Chroma.Server.Storage;

/// <summary>Receives one stored vector while an index is loaded.</summary>
internal delegate void StoredVectorVisitor(long sequence, ReadOnlySpan<float> vector, string dataset);
