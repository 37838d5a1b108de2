using Chroma.Protocol.V1;
using Grpc.Core;
using Moq;

namespace Chroma.Tests.Query;

/// <summary>
/// The client over a borrowed <see cref="CallInvoker"/>: a Moq fake stands in for the transport so each test decides
/// exactly how the call ends (cancelled, refused, answered) without a server.
/// </summary>
[TestFixture]
[CancelAfter(10_000)]
public sealed class ChromaClientCallInvokerTests
{
    private static readonly ChromaClientOptions s_options = new()
    {
        Endpoint = new Uri("http://chroma.test:50051"),
        ApiKey = "secret",
        RequestTimeout = TimeSpan.FromSeconds(7),
        DrainTimeout = TimeSpan.Zero,
    };

    [Test]
    public async Task ListSetsAsync_TokenCancelledDuringTheCall_ThrowsOperationCanceledExceptionWithThatToken(CancellationToken cancellationToken)
    {
        var invoker = new Mock<CallInvoker>(MockBehavior.Strict);
        invoker
            .Setup(i => i.AsyncUnaryCall(It.IsAny<Method<ListSetsRequest, ListSetsResponse>>(), It.IsAny<string>(), It.IsAny<CallOptions>(), It.IsAny<ListSetsRequest>()))
            .Returns((Method<ListSetsRequest, ListSetsResponse> _, string _, CallOptions options, ListSetsRequest _) => CancelledWhen(options.CancellationToken));
        await using var client = new ChromaClient(invoker.Object, s_options);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        var call = client.ListSetsAsync(cancel.Token);
        await cancel.CancelAsync();

        var thrown = Assert.CatchAsync<OperationCanceledException>(() => call);
        Assert.Multiple(() =>
        {
            Assert.That(thrown!.CancellationToken, Is.EqualTo(cancel.Token));
            Assert.That(thrown.InnerException, Is.InstanceOf<RpcException>(), "the transport's status stays available");
        });
    }

    [Test]
    public async Task ListSetsAsync_ServerUnavailable_ThrowsChromaExceptionWithTheStatus()
    {
        var invoker = new Mock<CallInvoker>(MockBehavior.Strict);
        invoker
            .Setup(i => i.AsyncUnaryCall(It.IsAny<Method<ListSetsRequest, ListSetsResponse>>(), It.IsAny<string>(), It.IsAny<CallOptions>(), It.IsAny<ListSetsRequest>()))
            .Returns(Unary(Task.FromException<ListSetsResponse>(new RpcException(new Status(StatusCode.Unavailable, "connection refused")))));
        await using var client = new ChromaClient(invoker.Object, s_options);

        var thrown = Assert.ThrowsAsync<ChromaException>(() => client.ListSetsAsync());

        Assert.Multiple(() =>
        {
            Assert.That(thrown!.StatusCode, Is.EqualTo(StatusCode.Unavailable));
            Assert.That(thrown.Message, Does.Contain("connection refused"));
        });
    }

    [Test]
    public async Task CountAsync_BorrowedInvoker_SendsApiKeyDeadlineAndRequestThroughIt()
    {
        CallOptions? seen = null;
        CountRecordsRequest? request = null;
        var invoker = new Mock<CallInvoker>(MockBehavior.Strict);
        invoker
            .Setup(i => i.AsyncUnaryCall(It.IsAny<Method<CountRecordsRequest, CountRecordsResponse>>(), It.IsAny<string>(), It.IsAny<CallOptions>(), It.IsAny<CountRecordsRequest>()))
            .Returns((Method<CountRecordsRequest, CountRecordsResponse> _, string _, CallOptions options, CountRecordsRequest sent) =>
            {
                seen = options;
                request = sent;
                return Unary(Task.FromResult(new CountRecordsResponse { Count = 42 }));
            });
        await using var client = new ChromaClient(invoker.Object, s_options);

        var count = await client.CountAsync("m/1/fc", ChromaDatasets.Production);

        Assert.Multiple(() =>
        {
            Assert.That(count, Is.EqualTo(42));
            Assert.That(request!.SetId, Is.EqualTo("m/1/fc"));
            Assert.That(request.Filter.Dataset, Is.EqualTo(ChromaDatasets.Production));
            Assert.That(seen!.Value.Headers!.GetValue(ChromaClient.ApiKeyHeader), Is.EqualTo("secret"));
            Assert.That(seen.Value.Deadline, Is.Not.Null.And.GreaterThan(DateTime.UtcNow), "RequestTimeout becomes the call's deadline");
        });
    }

    [Test]
    public async Task GetRecommendationsAsync_ProductionShiftSignal_CarriesItsLeadPValueAndTheOtherSignalsNone()
    {
        var item = new Recommendation { Record = new StoredRecord { Record = new Record { Id = "r1", Dataset = ChromaDatasets.Production }, SetId = "m/1/fc", Sequence = 3 }, Score = 2.5 };
        item.Signals.Add(new SignalScore { Signal = "mahalanobis", Value = 3, Percentile = 0.99, PValue = 0.01 });
        item.Signals.Add(new SignalScore { Signal = "production_shift", Value = 4, Percentile = 0.999, PValue = 0.001, LeadPValue = 0.02 });
        var response = new GetRecommendationsResponse { ScoredRecords = 1, TotalResults = 1 };
        response.Recommendations.Add(item);
        var invoker = new Mock<CallInvoker>(MockBehavior.Strict);
        invoker
            .Setup(i => i.AsyncUnaryCall(It.IsAny<Method<GetRecommendationsRequest, GetRecommendationsResponse>>(), It.IsAny<string>(), It.IsAny<CallOptions>(), It.IsAny<GetRecommendationsRequest>()))
            .Returns(Unary(Task.FromResult(response)));
        await using var client = new ChromaClient(invoker.Object, s_options);

        var page = await client.GetRecommendationsAsync("m/1/fc");

        var signals = page.Items.Single().Signals;
        Assert.Multiple(() =>
        {
            Assert.That(signals.Single(s => s.Name == "production_shift").LeadPValue, Is.EqualTo(0.02));
            Assert.That(signals.Single(s => s.Name == "production_shift").PValue, Is.EqualTo(0.001));
            Assert.That(signals.Single(s => s.Name == "mahalanobis").LeadPValue, Is.Null, "0 on the wire: not reported");
        });
    }

    [TestCase(7, 7, Description = "a cut list: the count counts the ids not sent")]
    [TestCase(0, 2, Description = "a server before duplicate_count: the ids it lists")]
    public async Task GetRecommendationsAsync_DuplicateCount_IsTheServersCountOrTheIdsListed(int sent, int expected)
    {
        var item = new Recommendation { Record = new StoredRecord { Record = new Record { Id = "r1", Dataset = ChromaDatasets.Production }, SetId = "m/1/fc", Sequence = 3 }, Score = 2.5, DuplicateCount = sent };
        item.DuplicateIds.Add(["r2", "r3"]);
        var response = new GetRecommendationsResponse { ScoredRecords = 1 + expected, TotalResults = 1 };
        response.Recommendations.Add(item);
        var invoker = new Mock<CallInvoker>(MockBehavior.Strict);
        invoker
            .Setup(i => i.AsyncUnaryCall(It.IsAny<Method<GetRecommendationsRequest, GetRecommendationsResponse>>(), It.IsAny<string>(), It.IsAny<CallOptions>(), It.IsAny<GetRecommendationsRequest>()))
            .Returns(Unary(Task.FromResult(response)));
        await using var client = new ChromaClient(invoker.Object, s_options);

        var page = await client.GetRecommendationsAsync("m/1/fc");

        Assert.That(page.Items.Single().DuplicateIds, Is.EqualTo(new[] { "r2", "r3" }));
        Assert.That(page.Items.Single().DuplicateCount, Is.EqualTo(expected));
    }

    [Test]
    public void Validate_HttpHandlerWithTrustedRootCertificate_ThrowsNamingTheCertificate()
    {
        using var handler = new SocketsHttpHandler();
        using var key = System.Security.Cryptography.ECDsa.Create();
        using var certificate = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=test", key, System.Security.Cryptography.HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        var options = new ChromaClientOptions { HttpHandler = handler, TrustedRootCertificate = certificate };

        Assert.That(options.Validate, Throws.ArgumentException.With.Property("ParamName").EqualTo(nameof(ChromaClientOptions.TrustedRootCertificate)));
    }

    [Test]
    public void Constructor_NullCallInvoker_ThrowsArgumentNullException()
    {
        Assert.That(() => new ChromaClient((CallInvoker)null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("callInvoker"));
    }

    /// <summary>A call that ends the way Grpc.Net.Client ends one whose token is cancelled: RpcException(Cancelled).</summary>
    private static AsyncUnaryCall<ListSetsResponse> CancelledWhen(CancellationToken token)
    {
        var response = new TaskCompletionSource<ListSetsResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(() => response.TrySetException(new RpcException(new Status(StatusCode.Cancelled, "Call canceled by the client."))));
        return Unary(response.Task);
    }

    private static AsyncUnaryCall<T> Unary<T>(Task<T> response) =>
        new(response, Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });
}
