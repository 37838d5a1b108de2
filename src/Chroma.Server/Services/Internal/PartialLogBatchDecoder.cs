using System.Buffers;
using System.Globalization;
using Chroma.Protocol.V1;
using Google.Protobuf;

namespace Chroma.Server.Services.Internal;

/// <summary>
/// Decodes a <see cref="LogBatch"/> that Google.Protobuf refused as a whole (it refuses a message with invalid UTF-8
/// in any string, without saying where) one record at a time. A record that does not decode becomes an empty
/// placeholder named in <see cref="LogBatch.RecordDecodeErrors"/>, so the rejection lists it with every other invalid
/// record of the batch, and dropping the listed records leaves a batch the server stores. Only when the batch id,
/// the set or the framing itself is broken is the batch refused as a whole (<see cref="LogBatch.DecodeError"/>).
/// </summary>
internal static class PartialLogBatchDecoder
{
    /// <summary>
    /// The batch in <paramref name="payload"/>, with its undecodable records marked; or, when the batch itself is
    /// broken, a batch holding only its id (when readable) and <paramref name="problem"/>, the reason for the whole.
    /// </summary>
    public static LogBatch Decode(ReadOnlySequence<byte> payload, string problem)
    {
        try
        {
            if (TryDecode(payload) is { } batch)
            {
                return batch;
            }
        }
        catch (InvalidProtocolBufferException)
        {
            // Truncated or garbled framing: nothing record by record to save.
        }

        // The batch id, when readable, lets the client match the rejection to its batch.
        return BatchRefused(payload, problem);
    }

    // Null when no part of the batch shows the problem (then only the whole message's problem can be told).
    private static LogBatch? TryDecode(ReadOnlySequence<byte> payload)
    {
        var batch = new LogBatch();
        var undecodable = new Dictionary<int, string>();
        var input = new CodedInputStream(payload.ToArray());
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
            {
                input.SkipLastField();
                continue;
            }

            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case LogBatch.BatchIdFieldNumber:
                    var id = input.ReadBytes();
                    if (!MalformedFieldLocator.IsValid(id))
                    {
                        return new LogBatch { DecodeError = "batch_id: is not valid UTF-8" };
                    }

                    batch.BatchId = id.ToStringUtf8();
                    break;
                case LogBatch.SetFieldNumber:
                    var set = input.ReadBytes();
                    try
                    {
                        // A message field sent more than once is merged, as the generated parser does.
                        (batch.Set ??= new EmbeddingSetDescriptor()).MergeFrom(set);
                    }
                    catch (InvalidProtocolBufferException ex)
                    {
                        return BatchRefused(payload, MalformedFieldLocator.FindInvalidUtf8(set, EmbeddingSetDescriptor.Descriptor, "set.")
                            ?? $"set: is not a valid {EmbeddingSetDescriptor.Descriptor.FullName} message ({ex.Message})");
                    }

                    break;
                case LogBatch.RecordsFieldNumber:
                    var index = batch.Records.Count;
                    var record = input.ReadBytes();
                    try
                    {
                        batch.Records.Add(Record.Parser.ParseFrom(record));
                    }
                    catch (InvalidProtocolBufferException ex)
                    {
                        var at = string.Create(CultureInfo.InvariantCulture, $"records[{index}]");
                        undecodable[index] = MalformedFieldLocator.FindInvalidUtf8(record, Record.Descriptor, at + ".")
                            ?? $"{at}: is not a valid {Record.Descriptor.FullName} message ({ex.Message})";
                        batch.Records.Add(new Record());
                    }

                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }

        if (undecodable.Count == 0)
        {
            return null;
        }

        batch.RecordDecodeErrors = undecodable;
        return batch;
    }

    private static LogBatch BatchRefused(ReadOnlySequence<byte> payload, string problem) =>
        new() { BatchId = MalformedFieldLocator.ReadString(payload, LogBatch.BatchIdFieldNumber), DecodeError = problem };
}
