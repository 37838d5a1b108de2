using Chroma.Protocol.V1;

namespace Chroma;

/// <summary>A record as the server stores it.</summary>
public sealed class ChromaRecord
{
    private static readonly long MinUnixMs = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
    private static readonly long MaxUnixMs = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    internal ChromaRecord(StoredRecord stored)
    {
        var record = stored.Record;
        Id = record.Id;
        SetId = stored.SetId;
        Sequence = stored.Sequence;
        Dataset = record.Dataset;
        Embedding = ToArray(record.Embedding);
        InputUri = NullIfEmpty(record.InputUri);
        Label = NullIfEmpty(record.Label);
        PredictedClass = NullIfEmpty(record.Inference?.PredictedClass);
        ClassProbabilities = record.Inference is null ? ReadOnlyMemory<float>.Empty : ToArray(record.Inference.ClassProbabilities);
        ClassNames = record.Inference is null ? [] : [.. record.Inference.ClassNames];
        Metadata = new Dictionary<string, string>(record.Metadata, StringComparer.Ordinal);
        Timestamp = FromUnixTimeMillisecondsClamped(record.TimestampUnixMs);
        Review = stored.Review is null ? null : new RecordReview(stored.Review);
    }

    /// <summary>The client-generated UUIDv7 id.</summary>
    public string Id { get; }

    /// <summary>The embedding set (<c>model/version/layer</c>).</summary>
    public string SetId { get; }

    /// <summary>The server's ingest order.</summary>
    public long Sequence { get; }

    /// <summary><c>training</c>, <c>production</c> or a custom dataset.</summary>
    public string Dataset { get; }

    /// <summary>The embedding, or empty when the query did not ask for embeddings.</summary>
    public ReadOnlyMemory<float> Embedding { get; }

    /// <summary>Where the input came from, if known.</summary>
    public string? InputUri { get; }

    /// <summary>The ground-truth label, if any.</summary>
    public string? Label { get; }

    /// <summary>The predicted class, if any.</summary>
    public string? PredictedClass { get; }

    /// <summary>Class probabilities, or empty.</summary>
    public ReadOnlyMemory<float> ClassProbabilities { get; }

    /// <summary>Class names matching <see cref="ClassProbabilities"/>, or empty.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Metadata, including tags added later.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>When the call was captured.</summary>
    /// <remarks>
    /// A stored time outside what <see cref="DateTimeOffset"/> can hold (before year 1 or after year 9999, which older
    /// servers accepted at ingest) reads as <see cref="DateTimeOffset.MinValue"/> or <see cref="DateTimeOffset.MaxValue"/>,
    /// so such a record can still be read, exported and deleted.
    /// </remarks>
    public DateTimeOffset Timestamp { get; }

    /// <summary>What reviewers did with the record (state, label, promotion), or <see langword="null"/> when nobody reviewed it.</summary>
    public RecordReview? Review { get; }

    // Total, unlike DateTimeOffset.FromUnixTimeMilliseconds, which throws for a value one reader cannot do anything about.
    private static DateTimeOffset FromUnixTimeMillisecondsClamped(long unixMs) =>
        unixMs < MinUnixMs ? DateTimeOffset.MinValue
        : unixMs > MaxUnixMs ? DateTimeOffset.MaxValue
        : DateTimeOffset.FromUnixTimeMilliseconds(unixMs);

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static float[] ToArray(Google.Protobuf.Collections.RepeatedField<float> values)
    {
        var array = new float[values.Count];
        values.CopyTo(array, 0);
        return array;
    }
}
