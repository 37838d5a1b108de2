using Chroma.Protocol.V1;

namespace Chroma.Batching;

/// <summary>A batch ready for the wire. Its id and record ids are fixed, so re-sending it is idempotent.</summary>
internal sealed class OutgoingBatch
{
    public OutgoingBatch(LogBatch message)
    {
        Message = message;
    }

    public LogBatch Message { get; }

    public string BatchId => Message.BatchId;

    public int Count => Message.Records.Count;

    /// <summary>How many times this batch was written to a stream (1 = first send).</summary>
    public int Attempts { get; set; }

    /// <summary>The <see cref="TimeProvider.GetTimestamp"/> of the latest write, for the ack latency histogram.</summary>
    public long SentTimestamp { get; set; }
}
