using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Chroma.Tests.Diagnostics;

/// <summary>
/// The client's gRPC channel logs through the client's <see cref="ChromaClientOptions.LoggerFactory"/> from Warning up:
/// at Information it logged every failed connection attempt with a stack trace of several KB (outside-in probe G, F13:
/// 13.7 KB in 20 s), beside the client's own one-line warning that names the endpoint and the cause.
/// </summary>
[TestFixture]
public sealed class ChannelLoggingTests
{
    [Test, CancelAfter(30_000)]
    public async Task Client_ServerRefusesConnections_ChannelLogsNothingBelowWarningClientWarnsNamingTheEndpoint(CancellationToken cancellationToken)
    {
        // Arrange: a port nobody listens on (bound, then closed), a factory that records every category at every level.
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var logs = new CategoryRecordingFactory();
        var client = new ChromaClient(new ChromaClientOptions
        {
            Endpoint = new Uri($"http://127.0.0.1:{port}"),
            LoggerFactory = logs,
            FlushInterval = TimeSpan.FromMilliseconds(5),
            DrainTimeout = TimeSpan.Zero,
            Retry = new ChromaRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5) },
        });

        // Act
        client.GetEmbeddingSet(new EmbeddingSetDescriptor("unit", "1", "fc", 4)).LogTraining([1, 2, 3, 4], "0");
        while (client.ConsecutiveIngestFailures < 3)
        {
            await Task.Delay(5, cancellationToken);
        }

        await client.DisposeAsync();

        // Assert
        var channel = logs.Entries.Where(e => e.Category.StartsWith("Grpc", StringComparison.Ordinal)).ToList();
        var own = logs.Entries.Where(e => e.Category.StartsWith("Chroma", StringComparison.Ordinal) && e.Level == LogLevel.Warning).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(logs.Created.Where(c => c.StartsWith("Grpc", StringComparison.Ordinal)), Is.Not.Empty, "the channel does log through the client's factory");
            Assert.That(channel.Where(e => e.Level < LogLevel.Warning), Is.Empty);
            Assert.That(own.Select(e => e.Message), Has.Some.Contain($"127.0.0.1:{port}"));
        });
    }

    private sealed class CategoryRecordingFactory : ILoggerFactory
    {
        public ConcurrentQueue<(string Category, LogLevel Level, string Message)> Entries { get; } = new();

        public ConcurrentQueue<string> Created { get; } = new();

        public ILogger CreateLogger(string categoryName)
        {
            Created.Enqueue(categoryName);
            return new Logger(this, categoryName);
        }

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        private sealed class Logger(CategoryRecordingFactory owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Entries.Enqueue((category, logLevel, formatter(state, exception)));
        }
    }
}
