namespace Chroma.Protocol.V1;

/// <summary>Lets a batch that could not be decoded travel down the ingest stream to be rejected there.</summary>
internal sealed partial class LogBatch
{
    /// <summary>
    /// Gets or sets why the bytes of this batch were not a valid <c>LogBatch</c>, naming the field
    /// where it can. Null for every batch that decoded; such a batch is answered with an
    /// InvalidArgument ack, and the stream goes on with the next one.
    /// </summary>
    internal string? DecodeError { get; set; }
}
