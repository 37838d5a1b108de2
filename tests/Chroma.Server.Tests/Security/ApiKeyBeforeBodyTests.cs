using Chroma.Protocol.V1;
using Chroma.Server.Tests.Reliability;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Chroma.Server.Tests.Security;

/// <summary>
/// The API key is checked from the request headers before gRPC reads the message (security probe S2: unauthenticated
/// 60 KiB gzip bombs were inflated to 64 MiB each before the key was looked at, and took a server to 1.7 GiB).
/// </summary>
[TestFixture]
public sealed class ApiKeyBeforeBodyTests
{
    private const string Key = "k3y-before-body-0123456789";
    private const long MessageBytes = 20L * 1024 * 1024;

    [Test, CancelAfter(60_000)]
    public async Task UnaryCall_WithoutKeyAnd20MiBMessage_UnauthenticatedTrailersOnlyWithoutReadingTheBody(CancellationToken cancellationToken)
    {
        // Arrange
        await using var server = await RunningServer.StartAsync(apiKey: Key, clientApiKey: null);
        using var http = RawGrpcCall.CreateClient();

        // Act
        using var call = await RawGrpcCall.SendAsync(http, server.Server.Endpoint, "/chroma.v1.Query/ListSets", MessageBytes, cancellationToken: cancellationToken);
        var (code, detail) = await call.StatusAsync(cancellationToken);

        // Assert: the server never read past HTTP/2's flow-control window (768 KiB); reading the message took all 20 MiB.
        Assert.Multiple(() =>
        {
            Assert.That((code, detail), Is.EqualTo((StatusCode.Unauthenticated, "missing or invalid API key")));
            Assert.That((int)call.Response.StatusCode, Is.EqualTo(200));
            Assert.That(call.Response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/grpc"));
            Assert.That(call.TrailersOnly, Is.True, "answered in the headers, before any message");
            Assert.That(call.Sent, Is.LessThan(4 * 1024 * 1024), "request bytes the server let in");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task UnaryCall_RefusedBeforeItsBody_TheSameConnectionServesTheNextCallsWithTheKey(CancellationToken cancellationToken)
    {
        // Arrange
        await using var server = await RunningServer.StartAsync(apiKey: Key, clientApiKey: null);
        var invoker = server.Channel.CreateCallInvoker();
        var raw = new Method<byte[], byte[]>(MethodType.Unary, "chroma.v1.Query", "ListSets", Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        var large = new byte[4 * 1024 * 1024];
        large[0] = 0xC2; // field 1000, length-delimited: a request any parser skips
        large[1] = 0x3E;
        large[2] = 0xFA; // 4,194,298 bytes as a varint: the rest of the message
        large[3] = 0xFF;
        large[4] = 0xFF;
        large[5] = 0x01;
        var withKey = new Metadata { { "x-api-key", Key } };

        // Act: refused calls with unread bodies, then calls with the key on the same channel (one HTTP/2 connection).
        var refused = new List<StatusCode>();
        for (var i = 0; i < 3; i++)
        {
            var ex = Assert.ThrowsAsync<RpcException>(async () =>
                await invoker.AsyncUnaryCall(raw, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancellationToken), large));
            refused.Add(ex!.StatusCode);
        }

        var sets = await new Query.QueryClient(server.Channel).ListSetsAsync(new ListSetsRequest(), withKey, DateTime.UtcNow.AddSeconds(30), cancellationToken);
        var answer = await invoker.AsyncUnaryCall(raw, null, new CallOptions(withKey, DateTime.UtcNow.AddSeconds(30), cancellationToken), large);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(refused, Is.All.EqualTo(StatusCode.Unauthenticated));
            Assert.That(sets.Sets, Is.Empty);
            Assert.That(answer, Is.Not.Null, "the same large message with the key is read and answered");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task WrongKeys_RefusedBeforeTheirBodies_StillSaidInTheOnceAMinuteWarning(CancellationToken cancellationToken)
    {
        // Arrange
        await using var server = await LoggedServer.StartAsync(o => o.ApiKey = Key, LogLevel.Warning);
        var wrong = new Query.QueryClient(server.Channel);

        // Act
        for (var i = 0; i < 3; i++)
        {
            Assert.ThrowsAsync<RpcException>(async () => await wrong.ListSetsAsync(
                new ListSetsRequest(), new Metadata { { "x-api-key", "wrong-" + i } }, DateTime.UtcNow.AddSeconds(30), cancellationToken));
        }

        // Assert
        var warnings = server.Logs.Entries.Where(e => e.Event.Id == 1700).Select(e => e.Message).ToList();
        Assert.That(warnings, Has.Count.EqualTo(1), "the first refusal is said at once, the next ones within the minute are counted");
        Assert.That(warnings[0], Does.Contain("Refused 1 requests").And.Contain("/chroma.v1.Query/ListSets from 127.0.0.1"));
    }
}
