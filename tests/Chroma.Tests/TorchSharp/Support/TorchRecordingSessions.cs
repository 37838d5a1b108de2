using System.Collections.Concurrent;
using System.Threading.Channels;
using Chroma.Protocol.V1;
using Chroma.Transport;

namespace Chroma.Tests.TorchSharp.Support;

/// <summary>An in-memory ingest transport: acknowledges every batch at once and keeps a copy of what was sent.</summary>
internal sealed class TorchRecordingSessions : IIngestSessionFactory
{
    private readonly ConcurrentQueue<LogBatch> _batches = new();

    public IReadOnlyList<LogBatch> Batches => [.. _batches];

    public IReadOnlyList<Record> Records => [.. _batches.SelectMany(b => b.Records)];

    public IIngestSession Open(CancellationToken cancellationToken) => new Session(_batches);

    /// <summary>A client that ships to a new recorder; capture code sees a real client with its real queue and batching.</summary>
    public static ChromaClient CreateClient(out TorchRecordingSessions sessions, int queueCapacity = 10_000)
    {
        sessions = new TorchRecordingSessions();
        var options = new ChromaClientOptions
        {
            Endpoint = new Uri("http://127.0.0.1:9"), // never dialled: the recorder replaces the gRPC transport
            QueueCapacity = queueCapacity,
            FlushInterval = TimeSpan.FromMilliseconds(20),
        };
        return new ChromaClient(options, sessions);
    }

    private sealed class Session : IIngestSession
    {
        private readonly ConcurrentQueue<LogBatch> _batches;
        private readonly Channel<LogAck> _acks = Channel.CreateUnbounded<LogAck>();

        public Session(ConcurrentQueue<LogBatch> batches)
        {
            _batches = batches;
        }

        public Task WriteAsync(LogBatch batch, CancellationToken cancellationToken)
        {
            _batches.Enqueue(batch.Clone());
            _acks.Writer.TryWrite(new LogAck { BatchId = batch.BatchId, Accepted = batch.Records.Count });
            return Task.CompletedTask;
        }

        public async Task<LogAck?> ReadAckAsync(CancellationToken cancellationToken)
        {
            return await _acks.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false) && _acks.Reader.TryRead(out var ack) ? ack : null;
        }

        public ValueTask DisposeAsync()
        {
            _acks.Writer.TryComplete();
            return ValueTask.CompletedTask;
        }
    }
}
