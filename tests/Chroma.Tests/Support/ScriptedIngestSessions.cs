using System.Collections.Concurrent;
using System.Threading.Channels;
using Chroma.Protocol.V1;
using Chroma.Transport;
using Grpc.Core;

namespace Chroma.Tests.Support;

/// <summary>
/// An in-memory ingest server for unit tests of the client: records every batch written, answers with
/// <see cref="Respond"/> (default: all accepted), and can break sessions on demand. Isolates the client from the network;
/// the real server is exercised by Chroma.IntegrationTests.
/// </summary>
internal sealed class ScriptedIngestSessions : IIngestSessionFactory
{
    private int _failOpens;
    private int _opened;

    /// <summary>Every batch written, in order, with the number of the session that carried it.</summary>
    public ConcurrentQueue<(int Session, LogBatch Batch)> Written { get; } = new();

    /// <summary>Sessions opened so far.</summary>
    public int Opened => Volatile.Read(ref _opened);

    /// <summary>Answers a batch; return <see langword="null"/> to send no ack at all.</summary>
    public Func<LogBatch, LogAck?> Respond { get; set; } = batch => new LogAck { BatchId = batch.BatchId, Accepted = batch.Records.Count };

    /// <summary>When set, a write for which it returns a status throws that status (the stream broke under it).</summary>
    public Func<LogBatch, Status?>? WriteFailure { get; set; }

    /// <summary>When set, writes wait for it before completing (simulates a stalled server).</summary>
    public TaskCompletionSource? WriteGate { get; set; }

    /// <summary>The next <paramref name="count"/> sessions fail on first write with Unavailable.</summary>
    public void FailNextSessions(int count) => Interlocked.Exchange(ref _failOpens, count);

    /// <summary>Gets or sets the status a failed session's writes throw. The default value is Unavailable (transient).</summary>
    public StatusCode FailureStatus { get; set; } = StatusCode.Unavailable;

    /// <summary>The detail of the status a broken session fails with.</summary>
    public string FailureDetail { get; set; } = "scripted outage";

    /// <summary>The transport's own exception behind the failure (a status's debug exception), or null for none.</summary>
    public Exception? FailureCause { get; set; }

    /// <summary>Every batch written so far, in write order.</summary>
    public IReadOnlyList<LogBatch> Batches => [.. Written.Select(w => w.Batch)];

    /// <summary>Every record written so far, in write order.</summary>
    public IReadOnlyList<Record> Records => [.. Batches.SelectMany(b => b.Records)];

    /// <summary>The <see cref="System.Diagnostics.Activity.Current"/> (its operation name) each session was opened under.</summary>
    public ConcurrentQueue<string?> ActivityAtOpen { get; } = new();

    public IIngestSession Open(CancellationToken cancellationToken)
    {
        ActivityAtOpen.Enqueue(System.Diagnostics.Activity.Current?.OperationName);
        var number = Interlocked.Increment(ref _opened);
        var broken = Interlocked.Decrement(ref _failOpens) >= 0;
        return new Session(this, number, broken);
    }

    private sealed class Session(ScriptedIngestSessions owner, int number, bool broken) : IIngestSession
    {
        private readonly Channel<LogAck> _acks = Channel.CreateUnbounded<LogAck>();

        public async Task WriteAsync(LogBatch batch, CancellationToken cancellationToken)
        {
            if (broken)
            {
                throw new RpcException(new Status(owner.FailureStatus, owner.FailureDetail, owner.FailureCause));
            }

            if (owner.WriteFailure?.Invoke(batch) is { } failure)
            {
                throw new RpcException(failure);
            }

            if (owner.WriteGate is { } gate)
            {
                await gate.Task.WaitAsync(cancellationToken);
            }

            owner.Written.Enqueue((number, batch.Clone()));
            if (owner.Respond(batch) is { } ack)
            {
                _acks.Writer.TryWrite(ack);
            }
        }

        public async Task<LogAck?> ReadAckAsync(CancellationToken cancellationToken) =>
            await _acks.Reader.WaitToReadAsync(cancellationToken) && _acks.Reader.TryRead(out var ack) ? ack : null;

        public ValueTask DisposeAsync()
        {
            _acks.Writer.TryComplete();
            return ValueTask.CompletedTask;
        }
    }
}
