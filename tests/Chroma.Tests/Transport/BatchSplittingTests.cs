using System.Collections.Concurrent;
using Chroma.Protocol.V1;
using Chroma.Tests.Support;
using Chroma.Transport;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Chroma.Tests.Transport;

/// <summary>
/// A batch the server refuses for its size is split and re-sent, never retried whole for ever (outside-in probe g, F4 and
/// F10); only a single record refused as too large is dropped, and counted.
/// </summary>
[TestFixture]
public sealed class BatchSplittingTests
{
    [TestCase(true)]
    [TestCase(false)]
    [CancelAfter(20_000)]
    public async Task Send_BatchRejectedForTooManyRecords_SplitToTheServersLimitAndAllDelivered(bool limitInItsField, CancellationToken cancellationToken)
    {
        // Arrange: the server's answer to a batch over Chroma:Limits:MaxBatchRecords = 3: the limit in BatchError's own
        // field (whatever the message says), or, from a server older than the field, only in the message's wording.
        var sessions = new ScriptedIngestSessions
        {
            Respond = batch => batch.Records.Count > 3
                ? new LogAck
                {
                    BatchId = batch.BatchId,
                    Error = new BatchError
                    {
                        Code = (int)StatusCode.InvalidArgument,
                        Message = limitInItsField ? "records: too many for one batch" : $"records: batch has {batch.Records.Count} records, limit 3",
                        RecordIndex = -1,
                        MaxBatchRecords = limitInItsField ? 3 : 0,
                    },
                }
                : new LogAck { BatchId = batch.BatchId, Accepted = batch.Records.Count },
        };
        var logs = new RecordingLoggerProvider();
        await using var client = TestClients.Create(sessions, o =>
        {
            o.MaxBatchSize = 10;
            o.MaxBatchesInFlight = 1; // the second batch is taken only after the first is settled
            o.FlushInterval = TimeSpan.FromSeconds(30);
            o.LoggerFactory = logs;
        });
        var set = client.Set();

        // Act: one full batch of 10 (refused, split), then another (split before it is sent: the limit is known now).
        for (var i = 0; i < 20; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
        }

        await client.FlushAsync(cancellationToken);

        // Assert
        var stats = client.Statistics;
        var accepted = sessions.Batches.Where(b => b.Records.Count <= 3).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(stats.Exported, Is.EqualTo(20), "exported");
            Assert.That(stats.Failed, Is.Zero, "failed");
            Assert.That(accepted.SelectMany(b => b.Records).Select(r => r.Id).Distinct().Count(), Is.EqualTo(20), "every record acked");
            Assert.That(sessions.Batches.Count(b => b.Records.Count > 3), Is.EqualTo(1), "only the first batch went whole");
            Assert.That(accepted.Select(b => b.BatchId).Distinct().Count(), Is.EqualTo(accepted.Count), "each piece has its own batch id");
            Assert.That(logs.Entries.Count(e => e.Level == LogLevel.Error), Is.Zero, "no batch counted rejected");
            Assert.That(logs.Entries.Count(e => e.Message.Contains("split into", StringComparison.Ordinal)), Is.EqualTo(1));
        });
    }

    [Test, CancelAfter(20_000)]
    public async Task Send_StreamBreaksWhileWritingPiecesOfABatchSplitToALearnedLimit_EveryPieceDeliveredOrCounted(CancellationToken cancellationToken)
    {
        // Arrange: a server with a limit of 3 records per batch, learned from its refusal of a first batch of 10.
        var sessions = new ScriptedIngestSessions
        {
            Respond = batch => batch.Records.Count > 3
                ? new LogAck
                {
                    BatchId = batch.BatchId,
                    Error = new BatchError { Code = (int)StatusCode.InvalidArgument, Message = "records: too many", RecordIndex = -1, MaxBatchRecords = 3 },
                }
                : new LogAck { BatchId = batch.BatchId, Accepted = batch.Records.Count },
        };
        await using var client = TestClients.Create(sessions, o =>
        {
            o.MaxBatchSize = 10;
            o.FlushInterval = TimeSpan.FromSeconds(30);
        });
        var set = client.Set();
        for (var i = 0; i < 10; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
        }

        await client.FlushAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);

        // Act: the next batch of 10 is split into pieces before it is sent; the stream breaks under the first piece's write.
        var broken = 0;
        sessions.WriteFailure = _ => Interlocked.Exchange(ref broken, 1) == 0 ? new Status(StatusCode.Unavailable, "connection reset") : null;
        for (var i = 10; i < 20; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
        }

        var flush = client.FlushAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
        var flushError = await flush.ContinueWith(t => t.Exception?.GetBaseException(), TaskScheduler.Default);

        // Assert
        var stats = client.Statistics;
        Assert.Multiple(() =>
        {
            Assert.That(flushError, Is.Null, "the flush completes");
            Assert.That(stats.Exported, Is.EqualTo(20), "every record of the split batch delivered");
            Assert.That(stats.Queued, Is.Zero, "none left neither sent nor counted");
            Assert.That(sessions.Records.Where(r => r.Embedding[0] >= 10).Select(r => r.Id).Distinct().Count(), Is.EqualTo(10));
        });
    }

    [Test, CancelAfter(20_000)]
    public async Task Send_StreamEndedForMessageOverServerLimit_SplitsToFitAndDropsOnlyTheRecordTooLargeAlone(CancellationToken cancellationToken)
    {
        // Arrange: a server whose message limit is 400 bytes; 20 small records (about 80 bytes each) and one with a
        // 500-character metadata value, alone over the limit.
        var sessions = new SizeLimitedSessions(message =>
            message.CalculateSize() > 400
                ? new Status(StatusCode.ResourceExhausted,
                    "request: a LogBatch is larger than the server's message limit of 400 bytes (Chroma:Limits:MaxMessageBytes); split it")
                : null);
        var logs = new RecordingLoggerProvider();
        await using var client = TestClients.Create(sessions, o =>
        {
            o.MaxBatchSize = 50;
            o.FlushInterval = TimeSpan.FromSeconds(30);
            o.LoggerFactory = logs;
        });
        var set = client.Set();

        // Act
        for (var i = 0; i < 10; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
        }

        set.LogTraining([99, 0, 0, 0], "0", metadata: new Dictionary<string, string> { ["note"] = new string('x', 500) });
        for (var i = 10; i < 20; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
        }

        await client.FlushAsync(cancellationToken);

        // Assert
        var stats = client.Statistics;
        Assert.Multiple(() =>
        {
            Assert.That(stats.Exported, Is.EqualTo(20), "exported");
            Assert.That(stats.Failed, Is.EqualTo(1), "the record too large alone");
            Assert.That(stats.Exported + stats.Failed + stats.Dropped + stats.DroppedInvalid, Is.EqualTo(stats.Received), "counters add up");
            Assert.That(sessions.Acked.Select(r => r.Id).Distinct().Count(), Is.EqualTo(20));
            Assert.That(sessions.Acked.Any(r => r.Metadata.ContainsKey("note")), Is.False);
            Assert.That(logs.Entries.Single(e => e.Message.Contains("Chroma dropped a record of", StringComparison.Ordinal)).Message,
                Does.Contain("message limit (400 bytes"));
        });
    }

    [Test, CancelAfter(20_000)]
    public async Task Send_StreamTornDownEveryTimeABigBatchIsSent_SplitAfterTheSecondFailureNothingDropped(CancellationToken cancellationToken)
    {
        // Arrange: a proxy that resets the stream (no status) for any batch of more than 4 records.
        var sessions = new SizeLimitedSessions(message =>
            message.Records.Count > 4 ? new Status(StatusCode.Cancelled, "the ingest stream was torn down before the server sent a status") : null);

        // Act
        var stats = await SendOneBatchOfTwentyAsync(sessions, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(stats.Exported, Is.EqualTo(20), "exported");
            Assert.That(stats.Failed, Is.Zero, "an ambiguous failure never drops");
            Assert.That(sessions.Acked.Select(r => r.Id).Distinct().Count(), Is.EqualTo(20));
            Assert.That(sessions.Refused.Count(b => b.Records.Count == 20), Is.EqualTo(BatchSender.AmbiguousFailuresBeforeSplit), "split after the repeat");
        });
    }

    [Test, CancelAfter(20_000)]
    public async Task Send_StreamTornDownOnce_BatchResentWholeNotSplit(CancellationToken cancellationToken)
    {
        // Arrange: a network blip: the first stream is torn down, the next one works.
        var failures = 1;
        var sessions = new SizeLimitedSessions(_ =>
            Interlocked.Decrement(ref failures) >= 0 ? new Status(StatusCode.Cancelled, "the ingest stream was torn down before the server sent a status") : null);

        // Act
        var stats = await SendOneBatchOfTwentyAsync(sessions, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(stats.Exported, Is.EqualTo(20));
            Assert.That(sessions.AckedBatches.Select(b => b.Records.Count), Is.EqualTo(new[] { 20 }), "re-sent whole, same as before");
        });
    }

    // Logs 20 records into one batch (it closes by count, not by time), flushes, and returns the client's counts.
    private static async Task<ChromaStatistics> SendOneBatchOfTwentyAsync(SizeLimitedSessions sessions, CancellationToken cancellationToken)
    {
        await using var client = TestClients.Create(sessions, o =>
        {
            o.MaxBatchSize = 20;
            o.FlushInterval = TimeSpan.FromSeconds(30);
        });
        var set = client.Set();
        for (var i = 0; i < 20; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
        }

        await client.FlushAsync(cancellationToken);
        return client.Statistics;
    }

    /// <summary>An ingest server that ends the stream with the status <c>refuse</c> gives for a batch, and acks the others.</summary>
    private sealed class SizeLimitedSessions(Func<LogBatch, Status?> refuse) : IIngestSessionFactory
    {
        public ConcurrentQueue<LogBatch> AckedBatches { get; } = new();

        public ConcurrentQueue<LogBatch> Refused { get; } = new();

        public IEnumerable<Record> Acked => AckedBatches.SelectMany(b => b.Records);

        public IIngestSession Open(CancellationToken cancellationToken) => new Session(this);

        private sealed class Session(SizeLimitedSessions owner) : IIngestSession
        {
            private readonly System.Threading.Channels.Channel<LogAck> _acks = System.Threading.Channels.Channel.CreateUnbounded<LogAck>();
            private Status? _ended;

            public Task WriteAsync(LogBatch batch, CancellationToken cancellationToken)
            {
                if (_ended is { } ended)
                {
                    throw new RpcException(ended);
                }

                if (owner.Refuse(batch) is { } status)
                {
                    owner.Refused.Enqueue(batch.Clone());
                    _ended = status;
                    _acks.Writer.TryComplete(new RpcException(status));
                    throw new RpcException(status);
                }

                owner.AckedBatches.Enqueue(batch.Clone());
                _acks.Writer.TryWrite(new LogAck { BatchId = batch.BatchId, Accepted = batch.Records.Count });
                return Task.CompletedTask;
            }

            public async Task<LogAck?> ReadAckAsync(CancellationToken cancellationToken) =>
                await _acks.Reader.WaitToReadAsync(cancellationToken) && _acks.Reader.TryRead(out var ack) ? ack : null;

            public ValueTask DisposeAsync()
            {
                _acks.Writer.TryComplete();
                return ValueTask.CompletedTask;
            }
        }

        private Status? Refuse(LogBatch batch) => refuse(batch);
    }
}
