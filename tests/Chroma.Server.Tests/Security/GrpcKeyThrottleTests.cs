using Chroma.Protocol.V1;
using Chroma.Server.Security;
using Chroma.Server.Tests.Reliability;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Chroma.Server.Tests.Security;

/// <summary>
/// Key guessing over gRPC is limited per address (security probe S5: 3,750 wrong keys a second from one client): after
/// <see cref="ApiKeyCheck.GrpcFailuresAllowed"/> wrong keys within a minute the address is refused without its key being
/// checked until the minute is out; an address that sends the right key is never refused for an occasional wrong one.
/// </summary>
[TestFixture]
public sealed class GrpcKeyThrottleTests
{
    private const string Key = "k3y-throttle-0123456789abcdef";

    [Test, CancelAfter(120_000)]
    public async Task Call_AfterTooManyWrongKeysFromOneAddress_ResourceExhaustedEvenWithTheRightKeyUntilTheWindowEnds(CancellationToken cancellationToken)
    {
        // Arrange
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(time);
        var query = new Query.QueryClient(server.Channel);

        // Act
        var wrong = new List<StatusCode>();
        for (var i = 0; i < ApiKeyCheck.GrpcFailuresAllowed; i++)
        {
            wrong.Add(await OutcomeAsync(query, "guess-" + i, cancellationToken));
        }

        time.Advance(TimeSpan.FromSeconds(20));
        var throttledGuess = await CallAsync(query, "guess-next", cancellationToken);
        var throttledRight = await OutcomeAsync(query, Key, cancellationToken);
        var health = await new Health.HealthClient(server.Channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancellationToken);
        time.Advance(ApiKeyCheck.GrpcWindow - TimeSpan.FromSeconds(20));
        var rightAfterWindow = await OutcomeAsync(query, Key, cancellationToken);
        var wrongAfterWindow = await OutcomeAsync(query, "guess-later", cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(wrong, Is.All.EqualTo(StatusCode.Unauthenticated), "wrong keys up to the limit are answered as wrong");
            Assert.That(throttledGuess.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
            Assert.That(throttledGuess.Status.Detail, Does.StartWith("too many wrong API keys from this address (30 within 60 s): its calls are refused for 40 s more"));
            Assert.That(throttledGuess.Trailers.GetValue("grpc-retry-pushback-ms"), Is.EqualTo("40000"));
            Assert.That(throttledRight, Is.EqualTo(StatusCode.ResourceExhausted), "the key is not even compared while the address is refused");
            Assert.That(health.Status, Is.EqualTo(HealthCheckResponse.Types.ServingStatus.Serving), "health checks need no key, throttled or not");
            Assert.That(rightAfterWindow, Is.EqualTo(StatusCode.OK));
            Assert.That(wrongAfterWindow, Is.EqualTo(StatusCode.Unauthenticated));
        });
    }

    [Test, CancelAfter(120_000)]
    public async Task Call_RightKeysBetweenWrongOnes_NeverRefused(CancellationToken cancellationToken)
    {
        // Arrange: a host whose client with the right key shares its address with one holding a stale key.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(time);
        var query = new Query.QueryClient(server.Channel);

        // Act
        var outcomes = new List<StatusCode>();
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < ApiKeyCheck.GrpcFailuresAllowed - 1; i++)
            {
                _ = await OutcomeAsync(query, "stale-key", cancellationToken);
            }

            outcomes.Add(await OutcomeAsync(query, Key, cancellationToken));
        }

        // Assert
        Assert.That(outcomes, Is.All.EqualTo(StatusCode.OK));
    }

    private static Task<LoggedServer> StartAsync(TimeProvider time) =>
        LoggedServer.StartAsync(o => o.ApiKey = Key, LogLevel.Warning, services => services.AddSingleton(sp => new ApiKeyCheck(
            Key, sp.GetRequiredService<RejectedKeys>(), time: time)));

    private static async Task<RpcException> CallAsync(Query.QueryClient query, string key, CancellationToken cancellationToken)
    {
        try
        {
            await query.ListSetsAsync(new ListSetsRequest(), new Metadata { { "x-api-key", key } }, DateTime.UtcNow.AddSeconds(30), cancellationToken);
            return new RpcException(Status.DefaultSuccess);
        }
        catch (RpcException ex)
        {
            return ex;
        }
    }

    private static async Task<StatusCode> OutcomeAsync(Query.QueryClient query, string key, CancellationToken cancellationToken) =>
        (await CallAsync(query, key, cancellationToken)).StatusCode;
}
