using Chroma.Server.Tests.Reliability;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Chroma.Server.Tests.Validation;

/// <summary>
/// <c>Chroma:Limits:MaxMessageBytes</c> (64 MiB) is the limit of a unary message too (security probe S6: Kestrel's
/// default body limit of 30,000,000 bytes refused larger ones first, with <c>Unknown</c> and an Error in the log).
/// The messages are streamed from a 64 KiB buffer, so the client holds none of them whole.
/// </summary>
[TestFixture]
public sealed class UnaryMessageSizeTests
{
    private const string Key = "k3y-message-size-0123456789";
    private const long DefaultMaxMessageBytes = 64L * 1024 * 1024;

    [Test, CancelAfter(120_000)]
    public async Task UnaryCall_MessageBetweenKestrelsDefaultLimitAndMaxMessageBytes_Answered(CancellationToken cancellationToken)
    {
        // Arrange
        await using var server = await LoggedServer.StartAsync(o => o.ApiKey = Key, LogLevel.Warning);
        using var http = RawGrpcCall.CreateClient();

        // Act: 31,000,000 bytes, over Kestrel's default of 30,000,000.
        using var call = await RawGrpcCall.SendAsync(http, server.Endpoint, "/chroma.v1.Query/ListSets", 31_000_000, Key, cancellationToken: cancellationToken);
        var (code, detail) = await call.StatusAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(StatusCode.OK), detail);
            Assert.That(server.Logs.Entries.Where(e => e.Level >= LogLevel.Error), Is.Empty);
        });
    }

    [TestCase(false, TestName = "UnaryCall_MessageOverMaxMessageBytes_ResourceExhaustedNamingTheLimitUnread")]
    [TestCase(true, TestName = "UnaryCall_MessageOverMaxMessageBytesWithContentLength_ResourceExhaustedNamingTheLimitUnread")]
    [CancelAfter(120_000)]
    public async Task UnaryCall_MessageOverMaxMessageBytes_ResourceExhaustedNamingTheLimitUnread(bool withContentLength, CancellationToken cancellationToken)
    {
        // Arrange
        await using var server = await LoggedServer.StartAsync(o => o.ApiKey = Key, LogLevel.Warning);
        using var http = RawGrpcCall.CreateClient();

        // Act
        using var call = await RawGrpcCall.SendAsync(
            http, server.Endpoint, "/chroma.v1.Query/DeleteRecords", DefaultMaxMessageBytes + 1, Key, withContentLength, cancellationToken);
        var (code, detail) = await call.StatusAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(StatusCode.ResourceExhausted));
            Assert.That(detail, Is.EqualTo(
                "request: the DeleteRecords message is 67108865 bytes, over the server's message limit of 67108864 bytes " +
                "(Chroma:Limits:MaxMessageBytes); it was not read: send less in one call"));
            Assert.That(call.Sent, Is.LessThan(4 * 1024 * 1024), "request bytes the server let in");
            Assert.That(server.Logs.Entries.Where(e => e.Level >= LogLevel.Error), Is.Empty);
        });
    }
}
