using System.Buffers.Binary;
using System.Net;
using Grpc.Core;

namespace Chroma.Server.Tests.TestSupport;

/// <summary>
/// A unary gRPC call sent as plain HTTP/2 (h2c), so a test sees what a client library hides: the response's form
/// (trailers-only or not) and how much of the request body the server let through. The body is one message of
/// <c>messageBytes</c> that any request type parses (one unknown length-delimited field of zeros), written in 64 KiB
/// pieces and never held whole in memory; <see cref="Sent"/> counts the bytes the transport took, which HTTP/2 flow
/// control holds to about a window (768 KiB in Kestrel) beyond what the server read.
/// </summary>
internal sealed class RawGrpcCall : IDisposable
{
    private const int Piece = 64 * 1024;

    // Field 1000, wire type 2 (length-delimited): unknown to every Chroma request, so parsing skips it.
    private static readonly byte[] UnknownFieldTag = [0xC2, 0x3E];

    private readonly HttpRequestMessage _request;
    private readonly MessageContent _content;

    private RawGrpcCall(HttpRequestMessage request, MessageContent content, HttpResponseMessage response)
    {
        _request = request;
        _content = content;
        Response = response;
    }

    /// <summary>Gets the HTTP response.</summary>
    public HttpResponseMessage Response { get; }

    /// <summary>Gets the request body's bytes the transport took before the call ended.</summary>
    public long Sent => _content.Sent;

    /// <summary>Gets whether <c>grpc-status</c> came in the response headers (a trailers-only response).</summary>
    public bool TrailersOnly => Response.Headers.Contains("grpc-status");

    /// <summary>
    /// Calls <paramref name="method"/> (<c>/package.Service/Method</c>) on <paramref name="endpoint"/> with a message of
    /// <paramref name="messageBytes"/> (at least 16), sending <paramref name="apiKey"/> when given, and
    /// <c>Content-Length</c> when <paramref name="withContentLength"/>.
    /// </summary>
    public static async Task<RawGrpcCall> SendAsync(
        HttpClient http, Uri endpoint, string method, long messageBytes, string? apiKey = null, bool withContentLength = false, CancellationToken cancellationToken = default)
    {
        var content = new MessageContent(messageBytes, withContentLength);
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, method))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        request.Headers.TryAddWithoutValidation("te", "trailers");
        if (apiKey is not null)
        {
            request.Headers.Add("x-api-key", apiKey);
        }

        // The request (and its body, which may still be sending) lives as long as the call.
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        return new RawGrpcCall(request, content, response);
    }

    /// <summary>The call's status: from the headers of a trailers-only response, else from the trailers after the body.</summary>
    public async Task<(StatusCode Code, string? Detail)> StatusAsync(CancellationToken cancellationToken = default)
    {
        var headers = TrailersOnly ? Response.Headers : await TrailersAsync(cancellationToken);
        var code = (StatusCode)int.Parse(headers.GetValues("grpc-status").Single(), System.Globalization.CultureInfo.InvariantCulture);
        var detail = headers.TryGetValues("grpc-message", out var values) ? Uri.UnescapeDataString(values.Single()) : null;
        return (code, detail);
    }

    /// <summary>An <see cref="HttpClient"/> that speaks h2c to a test server.</summary>
    public static HttpClient CreateClient() => new(new SocketsHttpHandler()) { Timeout = TimeSpan.FromSeconds(60) };

    public void Dispose()
    {
        Response.Dispose();
        _request.Dispose();
    }

    private async Task<System.Net.Http.Headers.HttpHeaders> TrailersAsync(CancellationToken cancellationToken)
    {
        await Response.Content.CopyToAsync(Stream.Null, cancellationToken);
        return Response.TrailingHeaders;
    }

    private sealed class MessageContent : HttpContent
    {
        private readonly long _messageBytes;
        private readonly bool _withContentLength;
        private long _sent;

        public MessageContent(long messageBytes, bool withContentLength)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(messageBytes, 16);
            _messageBytes = messageBytes;
            _withContentLength = withContentLength;
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        }

        public long Sent => Interlocked.Read(ref _sent);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            // The frame header, the unknown field's tag and its length (a 5-byte varint fits any length here).
            var prefix = new byte[5 + UnknownFieldTag.Length + 5];
            BinaryPrimitives.WriteUInt32BigEndian(prefix.AsSpan(1), checked((uint)_messageBytes));
            UnknownFieldTag.CopyTo(prefix, 5);
            var payload = _messageBytes - UnknownFieldTag.Length - 5;
            for (var i = 0; i < 5; i++)
            {
                var group = (byte)((payload >> (7 * i)) & 0x7F);
                prefix[5 + UnknownFieldTag.Length + i] = i < 4 ? (byte)(group | 0x80) : group;
            }

            await Write(stream, prefix);
            var zeros = new byte[Piece];
            for (var left = payload; left > 0; left -= Piece)
            {
                await Write(stream, zeros.AsMemory(0, (int)Math.Min(Piece, left)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 5 + _messageBytes;
            return _withContentLength;
        }

        private async Task Write(Stream stream, ReadOnlyMemory<byte> bytes)
        {
            await stream.WriteAsync(bytes);
            Interlocked.Add(ref _sent, bytes.Length);
        }
    }
}
