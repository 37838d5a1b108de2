using System.Collections.Concurrent;
using System.Threading.Channels;
using Chroma.Protocol.V1;
using Chroma.Transport;

namespace Chroma.Tests.Support;

/// <summary>
/// An in-memory ingest stream for unit tests of capture: acknowledges every batch at once and keeps a copy of it, so a
/// test can assert on exactly what the client would have sent, with no server or network.
/// </summary>
internal sealed class RecordingIngestSessionFactory : IIngestSessionFactory
{
    private readonly ConcurrentQueue<LogBatch> _batches = new();

    /// <summary>Every batch written so far, in write order.</summary>
    public IReadOnlyList<LogBatch> Batches => [.. _batches];

    /// <summary>Every record written so far, in write order.</summary>
    public IReadOnlyList<Record> Records => [.. _batches.SelectMany(b => b.Records)];

    public IIngestSession Open(CancellationToken cancellationToken) => new Session(_batches);

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
            cancellationToken.ThrowIfCancellationRequested();
            _batches.Enqueue(batch.Clone());
            _acks.Writer.TryWrite(new LogAck { BatchId = batch.BatchId, Accepted = batch.Records.Count });
            return Task.CompletedTask;
        }

        public async Task<LogAck?> ReadAckAsync(CancellationToken cancellationToken)
        {
            try
            {
                return await _acks.Reader.ReadAsync(cancellationToken);
            }
            catch (ChannelClosedException)
            {
                return null;
            }
        }

        public ValueTask DisposeAsync()
        {
            _acks.Writer.TryComplete();
            return ValueTask.CompletedTask;
        }
    }
}
