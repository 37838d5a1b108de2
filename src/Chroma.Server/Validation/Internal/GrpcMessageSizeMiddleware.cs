using System.Buffers;
using System.IO.Pipelines;
using System.Buffers.Binary;
using Chroma.Server.Services.Internal;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;

namespace Chroma.Server.Validation.Internal;

/// <summary>
/// Holds a call with one request message (unary and server-streaming) to <see cref="LimitsOptions.MaxMessageBytes"/>:
/// Kestrel's request body limit (30,000,000 bytes by default, which answered a larger unary message with
/// <c>Unknown</c> and an Error in the log) becomes that limit plus the 5-byte gRPC frame header, and a message whose
/// frame header says it is larger is answered <c>ResourceExhausted</c> naming the limit before it is read. Streaming
/// requests are left to gRPC, which lifts the body limit for them and holds each message to the same limit.
/// </summary>
internal sealed class GrpcMessageSizeMiddleware
{
    // A gRPC message on the wire: a compressed flag (1 byte), its length (4 bytes, big-endian), then the message.
    private const int FrameHeaderBytes = 5;

    private readonly RequestDelegate _next;
    private readonly int _maxMessageBytes;

    /// <summary>Creates the middleware for the server's <paramref name="limits"/>.</summary>
    public GrpcMessageSizeMiddleware(RequestDelegate next, LimitsOptions limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        _next = next;
        _maxMessageBytes = limits.MaxMessageBytes;
    }

    /// <summary>Sets the body limit of a call with one request message and refuses one over it; lets every other request on.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!GrpcListenerRequests.IsGrpcPort(context.Request)
            || GrpcListenerRequests.Method(context) is not { Method.Type: MethodType.Unary or MethodType.ServerStreaming } grpc)
        {
            await _next(context).ConfigureAwait(false);
            return;
        }

        long limit = (long)_maxMessageBytes + FrameHeaderBytes;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            bodyLimit.MaxRequestBodySize = limit;
        }

        var length = context.Request.ContentLength is > 0 and var contentLength ? contentLength - FrameHeaderBytes : await PeekMessageLengthAsync(context).ConfigureAwait(false);
        if (context.RequestAborted.IsCancellationRequested)
        {
            // The caller went away (or its deadline passed) before sending a frame header: nothing to answer.
            return;
        }

        if (length > _maxMessageBytes)
        {
            await GrpcTrailersOnlyResponse.WriteAsync(context, new Status(StatusCode.ResourceExhausted,
                $"request: the {grpc.Method.Name} message is {length} bytes, over the server's message limit of {_maxMessageBytes} bytes " +
                "(Chroma:Limits:MaxMessageBytes); it was not read: send less in one call")).ConfigureAwait(false);
            return;
        }

        await _next(context).ConfigureAwait(false);
    }

    // The length the first frame header announces, leaving every byte for gRPC to read; null when the body ends sooner
    // or the caller went away (gRPC then answers as it would).
    private static async Task<long?> PeekMessageLengthAsync(HttpContext context)
    {
        var reader = context.Request.BodyReader;
        ReadResult result;
        try
        {
            result = await reader.ReadAtLeastAsync(FrameHeaderBytes, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or BadHttpRequestException)
        {
            return null;
        }

        var buffer = result.Buffer;
        long? length = null;
        if (buffer.Length >= FrameHeaderBytes)
        {
            Span<byte> header = stackalloc byte[FrameHeaderBytes];
            buffer.Slice(0, FrameHeaderBytes).CopyTo(header);
            length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        }

        // Nothing consumed or examined: gRPC's read returns the same bytes at once.
        reader.AdvanceTo(buffer.Start);
        return length;
    }
}
