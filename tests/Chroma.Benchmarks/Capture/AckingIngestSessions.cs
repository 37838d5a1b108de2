extern alias client;

using System.Threading.Channels;
using client::Chroma.Transport;
using LogAck = client::Chroma.Protocol.V1.LogAck;
using LogBatch = client::Chroma.Protocol.V1.LogBatch;

namespace Chroma.Benchmarks.Capture;

/// <summary>
/// An in-memory ingest transport that acknowledges every batch at once, so the client's real queue, batching and
/// sender run and drain as they would against a fast server, without a network in the measurement.
/// </summary>
internal sealed class AckingIngestSessions : IIngestSessionFactory
{
    public IIngestSession Open(CancellationToken cancellationToken) => new Session();

    /// <summary>A client with a queue deep enough for <paramref name="queueCapacity"/> rows between two flushes.</summary>
    public static ChromaClient CreateClient(int queueCapacity) =>
        new(
            new ChromaClientOptions
            {
                Endpoint = new Uri("http://127.0.0.1:9"), // never dialled
                QueueCapacity = queueCapacity,
                FlushInterval = TimeSpan.FromMilliseconds(5),
            },
            new AckingIngestSessions());

    private sealed class Session : IIngestSession
    {
        private readonly Channel<LogAck> _acks = Channel.CreateUnbounded<LogAck>();

        public Task WriteAsync(LogBatch batch, CancellationToken cancellationToken)
        {
            _acks.Writer.TryWrite(new LogAck { BatchId = batch.BatchId, Accepted = batch.Records.Count });
            return Task.CompletedTask;
        }

        public async Task<LogAck?> ReadAckAsync(CancellationToken cancellationToken) =>
            await _acks.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false) && _acks.Reader.TryRead(out var ack) ? ack : null;

        public ValueTask DisposeAsync()
        {
            _acks.Writer.TryComplete();
            return ValueTask.CompletedTask;
        }
    }
}
