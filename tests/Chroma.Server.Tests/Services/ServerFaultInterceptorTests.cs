using Chroma.Server.Services.Internal;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using NUnit.Framework;

namespace Chroma.Server.Tests.Services;

/// <summary>How the server answers a call whose handler failed on something it did not turn into a status.</summary>
public class ServerFaultInterceptorTests
{
    private const string CalledMethod = "/chroma.v1.Query/ListSets";

    [Test]
    public void Unary_HandlerThrowsABug_AnswersInternalNamingMethodFaultAndTheIdItLogged()
    {
        var logger = new RecordingLogger();
        var interceptor = new ServerFaultInterceptor(logger);

        var answer = Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler<string, string>(
            "request", new FakeCallContext(CancellationToken.None), (_, _) => throw new InvalidOperationException("secret connection string in here")));

        var logged = logger.Entries.Single();
        Assert.Multiple(() =>
        {
            Assert.That(answer!.StatusCode, Is.EqualTo(StatusCode.Internal));
            Assert.That(answer.Status.Detail, Does.Contain(CalledMethod).And.Contain(nameof(InvalidOperationException)));
            Assert.That(answer.Status.Detail, Does.Not.Contain("secret"), "exception text stays in the log");
            Assert.That(logged.Level, Is.EqualTo(LogLevel.Error));
            Assert.That(logged.Exception, Is.InstanceOf<InvalidOperationException>());
            Assert.That(answer.Status.Detail, Does.Contain($"error id {logged.ErrorId}"), "the caller gets the id the log holds");
        });
    }

    [Test]
    public void DuplexStreaming_HandlerRunsOutOfMemory_AnswersResourceExhausted()
    {
        var interceptor = new ServerFaultInterceptor(new RecordingLogger());

        var answer = Assert.ThrowsAsync<RpcException>(() => interceptor.DuplexStreamingServerHandler<string, string>(
            null!, null!, new FakeCallContext(CancellationToken.None), (_, _, _) => throw new InsufficientMemoryException("a 2 GiB buffer")));

        Assert.That(answer!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
    }

    [Test]
    public void ServerStreaming_HandlerChoseAStatus_PassesItThroughUnlogged()
    {
        var logger = new RecordingLogger();
        var interceptor = new ServerFaultInterceptor(logger);
        var chosen = new RpcException(new Status(StatusCode.InvalidArgument, "set_id: is required"));

        var answer = Assert.ThrowsAsync<RpcException>(() => interceptor.ServerStreamingServerHandler<string, string>(
            "request", null!, new FakeCallContext(CancellationToken.None), (_, _, _) => throw chosen));

        Assert.Multiple(() =>
        {
            Assert.That(answer, Is.SameAs(chosen));
            Assert.That(logger.Entries, Is.Empty);
        });
    }

    [Test]
    public void ClientStreaming_ClientWentAway_PassesTheExceptionThroughUnlogged()
    {
        var logger = new RecordingLogger();
        var interceptor = new ServerFaultInterceptor(logger);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.ThrowsAsync<IOException>(() => interceptor.ClientStreamingServerHandler<string, string>(
            null!, new FakeCallContext(cancelled.Token), (_, _) => throw new IOException("the client reset the stream")));
        Assert.That(logger.Entries, Is.Empty, "a call its client abandoned is no fault of the server");
    }

    [Test]
    public void Unary_DatabaseOutage_PassesThroughForTheOutageInterceptor()
    {
        var logger = new RecordingLogger();
        var interceptor = new ServerFaultInterceptor(logger);

        Assert.ThrowsAsync<Chroma.Server.Storage.StoreUnavailableException>(() => interceptor.UnaryServerHandler<string, string>(
            "request", new FakeCallContext(CancellationToken.None), (_, _) => throw new Chroma.Server.Storage.StoreUnavailableException("the database is unavailable")));
        Assert.That(logger.Entries, Is.Empty);
    }

    [Test]
    public async Task Unary_HandlerSucceeds_ReturnsItsResponse()
    {
        var interceptor = new ServerFaultInterceptor(new RecordingLogger());

        var response = await interceptor.UnaryServerHandler<string, string>("request", new FakeCallContext(CancellationToken.None), (r, _) => Task.FromResult(r + " answered"));

        Assert.That(response, Is.EqualTo("request answered"));
    }

    private sealed record Entry(LogLevel Level, Exception? Exception, string? ErrorId);

    private sealed class RecordingLogger : ILogger<ServerFaultInterceptor>
    {
        public List<Entry> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var id = state is IReadOnlyList<KeyValuePair<string, object?>> values ? values.FirstOrDefault(v => v.Key == "ErrorId").Value as string : null;
            Entries.Add(new Entry(logLevel, exception, id));
        }
    }

    private sealed class FakeCallContext(CancellationToken cancellationToken) : ServerCallContext
    {
        protected override string MethodCore => CalledMethod;

        protected override string HostCore => "127.0.0.1";

        protected override string PeerCore => "ipv4:127.0.0.1:5000";

        protected override DateTime DeadlineCore => DateTime.MaxValue;

        protected override Metadata RequestHeadersCore => [];

        protected override CancellationToken CancellationTokenCore => cancellationToken;

        protected override Metadata ResponseTrailersCore => [];

        protected override Status StatusCore { get; set; }

        protected override WriteOptions? WriteOptionsCore { get; set; }

        protected override AuthContext AuthContextCore => new(null, []);

        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();

        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
    }
}
