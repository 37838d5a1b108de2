using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Chroma.IntegrationTests.Reliability;

namespace Chroma.IntegrationTests.Diagnostics;

/// <summary>
/// The standalone server (<c>chroma-server</c>) sends its metrics over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is
/// set: a real server process, a real client logging to it, and an OTLP/HTTP receiver in the test standing in for the
/// collector.
/// </summary>
[TestFixture]
public sealed class OtlpMetricsExportTests
{
    [Test, CancelAfter(120_000)]
    public async Task Serve_WithOtlpEndpoint_ExportsTheServerMetricsToIt(CancellationToken cancellationToken)
    {
        // Arrange: the collector's role, OTLP over HTTP with protobuf bodies.
        using var receiver = new OtlpReceiver();
        await using var server = new ServerProcess(
            Path.Combine(Path.GetTempPath(), "chroma-it-" + Guid.NewGuid().ToString("N")),
            ServerProcess.FreePort(),
            deleteDataOnDispose: true,
            new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint,
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            });
        await server.StartAsync(cancellationToken);
        await using var client = new ChromaClient(new ChromaClientOptions { Endpoint = server.Endpoint, FlushInterval = TimeSpan.FromMilliseconds(10) });
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-otlp", "1", "fc", 4));

        // Act
        for (var i = 0; i < 20; i++)
        {
            set.LogProduction([i, 1f, 0f, 0f], "0");
        }

        await client.FlushAsync(cancellationToken);
        var export = await receiver.WaitForAsync("/v1/metrics", body => body.Contains("chroma.server.ingest.records", StringComparison.Ordinal), cancellationToken);

        // Assert: protobuf keeps names and string attributes as UTF-8, so they can be read without the OTLP schema.
        Assert.Multiple(() =>
        {
            Assert.That(client.Statistics.Exported, Is.EqualTo(20));
            Assert.That(export, Does.Contain("chroma-server"), "the default service name");
            Assert.That(export, Does.Contain("stored"), "the outcome attribute");
            Assert.That(export, Does.Contain("chroma.server.index.changes").Or.Contain("chroma.server.ingest.pending"));
        });
    }

    /// <summary>Accepts OTLP/HTTP export requests on a free port of 127.0.0.1 and keeps their bodies.</summary>
    private sealed class OtlpReceiver : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly ConcurrentQueue<(string Path, string Body)> _received = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public OtlpReceiver()
        {
            Endpoint = $"http://127.0.0.1:{ServerProcess.FreePort()}";
            _listener.Prefixes.Add(Endpoint + "/");
            _listener.Start();
            _loop = Task.Run(AcceptAsync);
        }

        public string Endpoint { get; }

        public async Task<string> WaitForAsync(string path, Func<string, bool> match, CancellationToken cancellationToken)
        {
            while (true)
            {
                if (_received.FirstOrDefault(r => r.Path == path && match(r.Body)) is { Body: { } body })
                {
                    return body;
                }

                await Task.Delay(100, cancellationToken);
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Close();
            try
            {
                _loop.Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
                // The listener closed under a pending accept.
            }

            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);

                // Latin-1 maps every byte to one char, so UTF-8 names inside the protobuf survive as substrings.
                _received.Enqueue((context.Request.Url?.AbsolutePath ?? "", Encoding.Latin1.GetString(body.ToArray())));
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.Close();
            }
        }
    }
}
