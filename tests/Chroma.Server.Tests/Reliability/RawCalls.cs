using Chroma.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Chroma.Server.Tests.Reliability;

/// <summary>
/// gRPC methods of the Chroma services whose requests are raw bytes, so a test can send what no
/// generated client would: invalid UTF-8, truncated or mutated messages.
/// </summary>
internal static class RawCalls
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(static b => b, static b => b);

    /// <summary>The bidi ingest stream with raw request bytes and parsed acks.</summary>
    public static readonly Method<byte[], LogAck> IngestLog = new(
        MethodType.DuplexStreaming, "chroma.v1.Ingest", "Log", Bytes, Marshallers.Create(static (LogAck a) => a.ToByteArray(), LogAck.Parser.ParseFrom));

    /// <summary>A unary Query method by name (e.g. "CountRecords") with raw request and response bytes.</summary>
    public static Method<byte[], byte[]> Query(string name) => new(MethodType.Unary, "chroma.v1.Query", name, Bytes, Bytes);

    /// <summary>Opens an ingest stream that sends raw bytes.</summary>
    public static AsyncDuplexStreamingCall<byte[], LogAck> OpenIngest(GrpcChannel channel, TimeSpan deadline) =>
        channel.CreateCallInvoker().AsyncDuplexStreamingCall(IngestLog, null, new CallOptions(deadline: DateTime.UtcNow + deadline));

    /// <summary>Calls a unary Query method with raw request bytes.</summary>
    public static Task<byte[]> CallQueryAsync(GrpcChannel channel, string method, byte[] request, TimeSpan deadline) =>
        channel.CreateCallInvoker().AsyncUnaryCall(Query(method), null, new CallOptions(deadline: DateTime.UtcNow + deadline), request).ResponseAsync;

    /// <summary>
    /// Serializes <paramref name="message"/>, then overwrites the first byte of every occurrence of
    /// <paramref name="marker"/> (ASCII) with 0xFF, which is never valid in UTF-8. The length stays the same.
    /// </summary>
    public static byte[] WithInvalidUtf8(Google.Protobuf.IMessage message, string marker)
    {
        var bytes = message.ToByteArray();
        var needle = System.Text.Encoding.ASCII.GetBytes(marker);
        var found = false;
        for (var i = bytes.AsSpan().IndexOf(needle); i >= 0;)
        {
            bytes[i] = 0xFF;
            found = true;
            var next = bytes.AsSpan(i + 1).IndexOf(needle);
            i = next < 0 ? -1 : i + 1 + next;
        }

        return found ? bytes : throw new ArgumentException($"marker '{marker}' is not in the message", nameof(marker));
    }
}
