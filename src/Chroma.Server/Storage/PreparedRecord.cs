using Chroma.Protocol.V1;
using Chroma.Server.Storage.Internal;
using Google.Protobuf;

namespace Chroma.Server.Storage;

/// <summary>
/// A validated record turned into column values (blobs, canonical JSON, content hash) before the
/// write lock is taken, so the serialized part of an ingest does as little as possible.
/// </summary>
internal sealed class PreparedRecord
{
    private PreparedRecord(Record record, string id, byte[] embedding, string? metadataJson, string? classNamesJson, byte[]? classProbabilities, long receivedUnixMs)
    {
        Id = id;
        Dataset = record.Dataset;
        Embedding = embedding;
        InputUri = NullIfEmpty(record.InputUri);
        PredictedClass = NullIfEmpty(record.Inference?.PredictedClass);
        ClassProbabilities = classProbabilities;
        ClassNamesJson = classNamesJson;
        Label = NullIfEmpty(record.Label);
        MetadataJson = metadataJson;
        TimestampUnixMs = record.TimestampUnixMs == 0 ? receivedUnixMs : record.TimestampUnixMs;

        // The content hash covers the timestamp as sent (0 when unknown), so a retry that sends 0 again is a duplicate.
        ContentHash = ContentHasher.Compute(this, record.TimestampUnixMs);
    }

    /// <summary>Gets the record id as stored (normalized by the caller: lower case).</summary>
    public string Id { get; }

    /// <summary>Gets the dataset name.</summary>
    public string Dataset { get; }

    /// <summary>Gets the embedding as float32 little-endian bytes.</summary>
    public byte[] Embedding { get; }

    /// <summary>Gets the input URI, or null.</summary>
    public string? InputUri { get; }

    /// <summary>Gets the predicted class, or null.</summary>
    public string? PredictedClass { get; }

    /// <summary>Gets the class probabilities as float32 little-endian bytes, or null.</summary>
    public byte[]? ClassProbabilities { get; }

    /// <summary>Gets the class names as a JSON array, or null.</summary>
    public string? ClassNamesJson { get; }

    /// <summary>Gets the label, or null.</summary>
    public string? Label { get; }

    /// <summary>Gets the metadata as a JSON object with keys in ordinal order, or null when empty.</summary>
    public string? MetadataJson { get; }

    /// <summary>
    /// Gets the capture time: the record's own, or where it was sent as 0 (unknown) the time the server received it, so
    /// every stored record has an age (retention measures it; a record stored as 0 by a server before December 7 is kept).
    /// </summary>
    public long TimestampUnixMs { get; }

    /// <summary>Gets the hash of everything above but the id: equal hashes mean a re-sent record.</summary>
    public byte[] ContentHash { get; }

    /// <summary>Gets the embedding as floats (a view of <see cref="Embedding"/>).</summary>
    public ReadOnlySpan<float> Vector => FloatBlob.AsFloats(Embedding);

    /// <summary>
    /// Prepares a validated record, stored under <paramref name="id"/> (its id in the form the store keeps: lower case);
    /// a timestamp sent as 0 (unknown) is stored as <paramref name="receivedUnixMs"/>, the time the server received it.
    /// </summary>
    public static PreparedRecord From(Record record, string id, long receivedUnixMs = 0)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentException.ThrowIfNullOrEmpty(id);
        var inference = record.Inference;
        return new PreparedRecord(
            record,
            id,
            FloatBlob.FromFloats(UnsafeCollectionOperations.AsSpan(record.Embedding)),
            JsonColumns.Write(record.Metadata),
            inference is { ClassNames.Count: > 0 } ? JsonColumns.WriteArray(inference.ClassNames) : null,
            inference is { ClassProbabilities.Count: > 0 } ? FloatBlob.FromFloats(UnsafeCollectionOperations.AsSpan(inference.ClassProbabilities)) : null,
            receivedUnixMs);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
