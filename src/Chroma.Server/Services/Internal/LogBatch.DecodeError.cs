namespace Chroma.Protocol.V1;

/// <summary>Lets a batch that could not be decoded travel down the ingest stream to be rejected there.</summary>
internal sealed partial class LogBatch
{
    /// <summary>
    /// Gets or sets why the bytes of this batch were not a valid <c>LogBatch</c>, naming the field
    /// where it can. Null for every batch whose batch id and set decoded; such a batch is answered with an
    /// InvalidArgument ack, and the stream goes on with the next one.
    /// </summary>
    internal string? DecodeError { get; set; }

    /// <summary>
    /// Gets or sets, by index in <see cref="Records"/>, why a record of this batch could not be decoded (e.g.
    /// <c>records[1].label: is not valid UTF-8</c>); such a record is an empty placeholder. Null when every record
    /// decoded. The batch is rejected, listing these records with the other invalid ones.
    /// </summary>
    internal IReadOnlyDictionary<int, string>? RecordDecodeErrors { get; set; }
}
