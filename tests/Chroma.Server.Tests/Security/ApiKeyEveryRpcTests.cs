using Chroma.Protocol.V1;
using Chroma.Server.Tests.Reliability;
using Chroma.Server.Tests.TestSupport;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;

namespace Chroma.Server.Tests.Security;

/// <summary>With an API key configured, every RPC but the health check needs it, and the key never reaches the logs.</summary>
[TestFixture]
public sealed class ApiKeyEveryRpcTests
{
    private const string Key = "k3y-6f1d2c-never-logged";

    public static IEnumerable<TestCaseData> EveryMethod()
    {
        foreach (var name in new[] { "ListSets", "GetRecords", "CountRecords", "FindNearest", "DeleteRecords", "TagRecords", "GetRecommendations" })
        {
            yield return new TestCaseData("chroma.v1.Query", name, MethodType.Unary).SetName($"Query_{name}_WithoutKey_Unauthenticated");
        }

        yield return new TestCaseData("chroma.v1.Ingest", "Log", MethodType.DuplexStreaming).SetName("Ingest_Log_WithoutKey_Unauthenticated");
        yield return new TestCaseData("grpc.reflection.v1alpha.ServerReflection", "ServerReflectionInfo", MethodType.DuplexStreaming)
            .SetName("ReflectionV1Alpha_WithoutKey_Unauthenticated");
        yield return new TestCaseData("grpc.reflection.v1.ServerReflection", "ServerReflectionInfo", MethodType.DuplexStreaming)
            .SetName("ReflectionV1_WithoutKey_Unauthenticated");
    }

    [TestCaseSource(nameof(EveryMethod)), CancelAfter(90_000)]
    public async Task Rpc_WithoutKey_UnauthenticatedWithFixedMessage(string service, string method, MethodType type)
    {
        // Arrange
        await using var server = await RunningServer.StartAsync(apiKey: Key, clientApiKey: null);
        var invoker = server.Channel.CreateCallInvoker();
        var raw = new Method<byte[], byte[]>(type, service, method, Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        // The deadline only guards against a hang: a cold server on a loaded machine can take seconds to answer the first call.
        var options = new CallOptions(deadline: DateTime.UtcNow.AddSeconds(60));

        // Act
        var ex = Assert.ThrowsAsync<RpcException>(async () =>
        {
            if (type == MethodType.Unary)
            {
                await invoker.AsyncUnaryCall(raw, null, options, []).ResponseAsync;
            }
            else
            {
                using var call = invoker.AsyncDuplexStreamingCall(raw, null, options);
                await call.ResponseStream.MoveNext(CancellationToken.None);
            }
        });

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Unauthenticated));
            Assert.That(ex.Status.Detail, Is.EqualTo("missing or invalid API key"));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Reflection_WithKey_ListsServices()
    {
        // Arrange
        await using var server = await RunningServer.StartAsync(apiKey: Key);
        var invoker = server.Channel.CreateCallInvoker();
        var reflection = new ServerReflection.ServerReflectionClient(server.Channel);
        var headers = new Metadata { { "x-api-key", Key } };

        // Act
        using var call = reflection.ServerReflectionInfo(headers, DateTime.UtcNow.AddSeconds(10));
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = string.Empty });
        var answered = await call.ResponseStream.MoveNext(CancellationToken.None);
        await call.RequestStream.CompleteAsync();

        // Assert
        Assert.That(answered, Is.True);
        Assert.That(call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name), Does.Contain("chroma.v1.Ingest"));
    }

    [Test, CancelAfter(60_000)]
    public async Task Logs_RightWrongAndMissingKeysAtTraceLevel_KeyNeverAppears()
    {
        // Arrange: every category at Trace, so nothing the server or ASP.NET Core writes escapes the search.
        await using var server = await LoggedServer.StartAsync(o => o.ApiKey = Key);
        var withKey = new Query.QueryClient(server.Invoker);
        var anonymous = new Query.QueryClient(server.Channel);
        var ingest = new Ingest.IngestClient(server.Invoker);
        var wrongKey = new Metadata { { "x-api-key", Key + "-wrong" } };
        var prefixKey = new Metadata { { "x-api-key", Key[..^1] } };

        // Act: good calls, a rejected batch (its reason is logged), and rejected callers.
        using (var call = ingest.Log(deadline: DateTime.UtcNow.AddSeconds(20)))
        {
            var good = Records.Batch(Records.Set(), Records.Sequence(2));
            var bad = Records.Batch(Records.Set(), Records.Sequence(1));
            bad.Records[0].Embedding[0] = float.NaN;
            await call.RequestStream.WriteAsync(good);
            await call.RequestStream.WriteAsync(bad);
            Assert.That(await call.ResponseStream.MoveNext(CancellationToken.None) && await call.ResponseStream.MoveNext(CancellationToken.None), Is.True);
            await call.RequestStream.CompleteAsync();
        }

        await withKey.ListSetsAsync(new ListSetsRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
        foreach (var headers in new[] { wrongKey, prefixKey, new Metadata() })
        {
            Assert.ThrowsAsync<RpcException>(async () => await anonymous.ListSetsAsync(new ListSetsRequest(), headers, DateTime.UtcNow.AddSeconds(10)));
        }

        await new Health.HealthClient(server.Channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10));

        // Assert
        var text = server.Logs.AllText().ToList();
        Assert.Multiple(() =>
        {
            Assert.That(text, Has.Count.GreaterThan(20), "trace logging captured the requests");
            Assert.That(text.Where(t => t.Contains(Key[..^1], StringComparison.Ordinal)), Is.Empty, "log entries holding the key");
        });
    }
}
