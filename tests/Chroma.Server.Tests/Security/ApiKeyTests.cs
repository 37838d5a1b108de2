using Chroma.Protocol.V1;
using Chroma.Server.Hosting;
using Chroma.Server.Security;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;
using Grpc.Health.V1;

namespace Chroma.Server.Tests.Security;

[TestFixture]
public sealed class ApiKeyTests
{
    private const string Key = "s3cret-key";

    [Test, CancelAfter(30_000)]
    public async Task Query_WithoutKey_Unauthenticated()
    {
        // Arrange
        await using var server = await RunningServer.StartAsync(apiKey: Key, clientApiKey: null);
        var anonymous = new Query.QueryClient(server.Channel);

        // Act
        var ex = Assert.ThrowsAsync<RpcException>(async () => await anonymous.ListSetsAsync(new ListSetsRequest()));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Unauthenticated));
            Assert.That(ex.Status.Detail, Is.EqualTo("missing or invalid API key"));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task LogAndQuery_WrongKey_UnauthenticatedWithoutLeakingTheKey()
    {
        // Arrange
        await using var server = await RunningServer.StartAsync(apiKey: Key, clientApiKey: "s3cret-kez");

        // Act
        var query = Assert.ThrowsAsync<RpcException>(async () => await server.Query.ListSetsAsync(new ListSetsRequest()));
        var ingest = Assert.ThrowsAsync<RpcException>(() => server.LogAsync(Records.Batch(Records.Set(), Records.Sequence(1))));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(query!.StatusCode, Is.EqualTo(StatusCode.Unauthenticated));
            Assert.That(ingest!.StatusCode, Is.EqualTo(StatusCode.Unauthenticated));
            Assert.That(query.Status.Detail, Does.Not.Contain(Key));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task LogAndQuery_RightKey_Succeed()
    {
        // Arrange
        await using var server = await RunningServer.StartAsync(apiKey: Key);

        // Act
        var ack = (await server.LogAsync(Records.Batch(Records.Set(), Records.Sequence(2)))).Single();
        var sets = await server.Query.ListSetsAsync(new ListSetsRequest());

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ack.Accepted, Is.EqualTo(2));
            Assert.That(sets.Sets, Has.Count.EqualTo(1));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task HealthCheck_WithoutKey_StillServing()
    {
        // Arrange
        await using var server = await RunningServer.StartAsync(apiKey: Key, clientApiKey: null);

        // Act
        var response = await new Health.HealthClient(server.Channel).CheckAsync(new HealthCheckRequest());

        // Assert
        Assert.That(response.Status, Is.EqualTo(HealthCheckResponse.Types.ServingStatus.Serving));
    }

    [TestCase("old-s3cret-key", true)]
    [TestCase(Key, true)]
    [TestCase("older-s3cret-key", false)]
    public async Task LogAndQuery_DuringARotation_TheNewAndThePreviousKeyAreAcceptedNoOther(string clientKey, bool accepted)
    {
        // Arrange: probe O restarted its server with a new key, and every running client lost what it logged until it was
        // restarted too; the previous key is accepted beside the new one while clients move.
        await using var server = await RunningServer.StartAsync(
            o => { o.ApiKey = Key; o.PreviousApiKey = "old-s3cret-key"; }, clientApiKey: clientKey);

        // Act
        async Task<StatusCode> Outcome(Func<Task> call)
        {
            try
            {
                await call();
                return StatusCode.OK;
            }
            catch (RpcException ex)
            {
                return ex.StatusCode;
            }
        }

        var ingest = await Outcome(() => server.LogAsync(Records.Batch(Records.Set(), Records.Sequence(2))));
        var query = await Outcome(async () => await server.Query.ListSetsAsync(new ListSetsRequest()));

        // Assert
        var expected = accepted ? StatusCode.OK : StatusCode.Unauthenticated;
        Assert.That((ingest, query), Is.EqualTo((expected, expected)));
    }

    [TestCase(null, ExpectedResult = false)]
    [TestCase("", ExpectedResult = false)]
    [TestCase("s3cret-ke", ExpectedResult = false)]
    [TestCase("s3cret-key ", ExpectedResult = false)]
    [TestCase(Key, ExpectedResult = true)]
    public bool IsValidKey_Cases(string? presented) =>
        new ApiKeyCheck(Key).IsValidKey(presented);

    [TestCase(null, ExpectedResult = false)]
    [TestCase("old", ExpectedResult = true)]
    [TestCase(Key, ExpectedResult = true)]
    [TestCase("ol", ExpectedResult = false)]
    public bool IsValidKey_WithAPreviousKey_Cases(string? presented) =>
        new ApiKeyCheck(Key, previousApiKey: "old").IsValidKey(presented);
}
