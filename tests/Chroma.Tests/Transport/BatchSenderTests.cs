using System.Collections.Concurrent;
using Chroma.Protocol.V1;
using Chroma.Tests.Support;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Chroma.Tests.Transport;

[TestFixture]
public sealed class BatchSenderTests
{
    [Test, CancelAfter(20_000)]
    public async Task Send_EveryBatchRefusedUnauthenticated_OneErrorLoggedRepeatsAtDebugAllCountedFailed(CancellationToken cancellationToken)
    {
        // A wrong API key: every stream fails with a status retrying cannot fix.
        var sessions = new ScriptedIngestSessions { FailureStatus = StatusCode.Unauthenticated };
        sessions.FailNextSessions(int.MaxValue);
        var logs = new RecordingLoggerProvider();
        await using var client = TestClients.Create(sessions, o =>
        {
            o.MaxBatchSize = 1;
            o.LoggerFactory = logs;
        });
        var set = client.Set();

        for (var i = 0; i < 4; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
            await client.FlushAsync(cancellationToken);
        }

        var failures = logs.Entries.Where(e => e.Message.Contains("Unauthenticated", StringComparison.Ordinal)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(client.Statistics.Failed, Is.EqualTo(4), "every record counted");
            Assert.That(failures.Count(e => e.Level == LogLevel.Error), Is.EqualTo(1), "one error for the kind");
            Assert.That(failures.Count(e => e.Level == LogLevel.Debug), Is.EqualTo(3), "the repeats at Debug");
        });
    }

    [Test, CancelAfter(20_000)]
    public async Task Send_AckNeverArrives_ReconnectsAndResendsSameBatchIdCountedOnce(CancellationToken cancellationToken)
    {
        var firstSeen = new ConcurrentDictionary<string, byte>();
        var sessions = new ScriptedIngestSessions
        {
            // The first copy of every batch is "lost" after the server stored it; the re-sent copy is a duplicate.
            Respond = b => firstSeen.TryAdd(b.BatchId, 0)
                ? null
                : new LogAck { BatchId = b.BatchId, Duplicates = b.Records.Count },
        };
        await using var client = TestClients.Create(sessions, o =>
        {
            o.MaxBatchSize = 10;
            o.AckTimeout = TimeSpan.FromMilliseconds(50);
        });
        var set = client.Set();
        for (var i = 0; i < 25; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
        }

        await client.FlushAsync(cancellationToken);

        var written = sessions.Written.ToList();
        Assert.Multiple(() =>
        {
            Assert.That(client.Statistics.Exported, Is.EqualTo(25), "each record counted once");
            Assert.That(client.Statistics.Failed, Is.Zero);
            Assert.That(sessions.Opened, Is.GreaterThan(1), "the stream was re-opened");
            Assert.That(written.GroupBy(w => w.Batch.BatchId).All(g => g.Count() >= 2), Is.True, "every batch was re-sent");
            Assert.That(written.GroupBy(w => w.Batch.BatchId).All(g => g.Select(w => w.Batch).Distinct().Count() == 1), Is.True,
                "a re-sent batch carries the same records and ids");
        });
    }

    [Test, CancelAfter(20_000)]
    public async Task Send_ServerUnavailableTwice_RetriesWithBackoffThenDelivers(CancellationToken cancellationToken)
    {
        var sessions = new ScriptedIngestSessions();
        sessions.FailNextSessions(2);
        await using var client = TestClients.Create(sessions);
        var set = client.Set();
        for (var i = 0; i < 10; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
        }

        await client.FlushAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(sessions.Opened, Is.EqualTo(3));
            Assert.That(client.Statistics.Exported, Is.EqualTo(10));
        });
    }

    [Test, CancelAfter(20_000)]
    public async Task Send_ServerRejectsOneRecord_OnlyThatRecordFailsAndTheRestIsDelivered(CancellationToken cancellationToken)
    {
        var sessions = new ScriptedIngestSessions
        {
            Respond = b =>
            {
                var bad = b.Records.ToList().FindIndex(r => r.Label == "bad");
                return bad < 0
                    ? new LogAck { BatchId = b.BatchId, Accepted = b.Records.Count }
                    : new LogAck { BatchId = b.BatchId, Error = new BatchError { Code = (int)StatusCode.InvalidArgument, Message = $"records[{bad}].label: bad", RecordIndex = bad } };
            },
        };
        await using var client = TestClients.Create(sessions, o => o.MaxBatchSize = 100);
        var set = client.Set();
        for (var i = 0; i < 20; i++)
        {
            set.LogTraining([i, 0, 0, 0], i == 7 ? "bad" : "0");
        }

        await client.FlushAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(client.Statistics.Exported, Is.EqualTo(19));
            Assert.That(client.Statistics.Failed, Is.EqualTo(1));
        });
    }

    [Test, CancelAfter(20_000)]
    public async Task Send_ServerListsEveryBadRecord_DropsThemAllAtOnceAndResendsTheRestOnce(CancellationToken cancellationToken)
    {
        // Arrange: one batch of 20 (full, so the flush interval never splits it) with 5 bad records.
        var sessions = new ScriptedIngestSessions { Respond = RejectEveryBadRecord };
        var logs = new RecordingLoggerProvider();
        await using var client = TestClients.Create(sessions, o =>
        {
            o.MaxBatchSize = 20;
            o.FlushInterval = TimeSpan.FromHours(1);
            o.LoggerFactory = logs;
        });
        var set = client.Set();
        int[] bad = [0, 3, 4, 11, 19];
        for (var i = 0; i < 20; i++)
        {
            set.LogTraining([i, 0, 0, 0], bad.Contains(i) ? "bad" : "0");
        }

        // Act
        await client.FlushAsync(cancellationToken);

        // Assert: one rejection, one re-send of the 15 good records under the same batch id.
        var written = sessions.Batches;
        var warnings = logs.Entries.Where(e => e.Level >= LogLevel.Warning).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(written.Select(b => b.Records.Count), Is.EqualTo(new[] { 20, 15 }), "two round trips");
            Assert.That(written[1].BatchId, Is.EqualTo(written[0].BatchId));
            Assert.That(written[1].Records.Select(r => r.Label), Is.All.EqualTo("0"));
            Assert.That(client.Statistics.Failed, Is.EqualTo(5));
            Assert.That(client.Statistics.Exported, Is.EqualTo(15));
            Assert.That(warnings, Has.Count.EqualTo(1), "one warning for the batch, not one per record");
            Assert.That(warnings[0].Message, Does.Contain("rejected 5 of the 20 records").And.Contain("first: records[0].label: bad"));
        });
    }

    [Test, CancelAfter(20_000)]
    public async Task Send_ServerListsEveryRecordOfTheBatch_AllCountedFailedNothingResent(CancellationToken cancellationToken)
    {
        var sessions = new ScriptedIngestSessions { Respond = RejectEveryBadRecord };
        var logs = new RecordingLoggerProvider();
        await using var client = TestClients.Create(sessions, o =>
        {
            o.MaxBatchSize = 10;
            o.FlushInterval = TimeSpan.FromHours(1);
            o.LoggerFactory = logs;
        });
        var set = client.Set();
        for (var i = 0; i < 10; i++)
        {
            set.LogTraining([i, 0, 0, 0], "bad");
        }

        await client.FlushAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(sessions.Batches, Has.Count.EqualTo(1), "one round trip");
            Assert.That(client.Statistics.Failed, Is.EqualTo(10));
            Assert.That(client.Statistics.Exported, Is.Zero);
            Assert.That(logs.Entries.Count(e => e.Level >= LogLevel.Warning), Is.EqualTo(1));
        });
    }

    [Test, CancelAfter(20_000)]
    public async Task Send_WholeBatchRejected_CountsEveryRecordFailed(CancellationToken cancellationToken)
    {
        var sessions = new ScriptedIngestSessions
        {
            Respond = b => new LogAck { BatchId = b.BatchId, Error = new BatchError { Code = (int)StatusCode.InvalidArgument, Message = "set.dimension", RecordIndex = -1 } },
        };
        await using var client = TestClients.Create(sessions);
        var set = client.Set();
        for (var i = 0; i < 5; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
        }

        await client.FlushAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(client.Statistics.Failed, Is.EqualTo(5));
            Assert.That(client.Statistics.Exported, Is.Zero);
        });
    }

    [Test, CancelAfter(20_000)]
    public async Task Send_ServerSheddingLoad_WaitsAndResendsUntilAccepted(CancellationToken cancellationToken)
    {
        var busy = 3;
        var sessions = new ScriptedIngestSessions
        {
            Respond = b => Interlocked.Decrement(ref busy) >= 0
                ? new LogAck { BatchId = b.BatchId, Error = new BatchError { Code = (int)StatusCode.ResourceExhausted, Message = "ingest queue full", RetryAfterMs = 5, RecordIndex = -1 } }
                : new LogAck { BatchId = b.BatchId, Accepted = b.Records.Count },
        };
        await using var client = TestClients.Create(sessions, o => o.MaxBatchSize = 100);
        var set = client.Set();
        for (var i = 0; i < 10; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
        }

        await client.FlushAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(client.Statistics.Exported, Is.EqualTo(10));
            Assert.That(client.Statistics.Failed, Is.Zero);
            Assert.That(sessions.Written.Count, Is.GreaterThanOrEqualTo(4), "re-sent after each busy answer");
            Assert.That(sessions.Opened, Is.EqualTo(1), "shedding load does not break the stream");
        });
    }

    [Test, CancelAfter(20_000)]
    public async Task Send_ServerDiskFullForAWhile_OneWarningWithTheServersReasonTheRepeatsAtDebug(CancellationToken cancellationToken)
    {
        // Probe O: 20 s of batches refused for a full disk on the server, and the client said nothing until its own
        // queue overflowed.
        const string Reason = "records: the server's disk is full, nothing of this batch was stored; re-send after retry_after_ms";
        var refusals = 4;
        var sessions = new ScriptedIngestSessions
        {
            Respond = b => Interlocked.Decrement(ref refusals) >= 0
                ? new LogAck { BatchId = b.BatchId, Error = new BatchError { Code = (int)StatusCode.ResourceExhausted, Message = Reason, RetryAfterMs = 5, RecordIndex = -1 } }
                : new LogAck { BatchId = b.BatchId, Accepted = b.Records.Count },
        };
        var logs = new RecordingLoggerProvider();
        await using var client = TestClients.Create(sessions, o =>
        {
            o.MaxBatchSize = 100;
            o.LoggerFactory = logs;
        });
        client.Set().LogTraining([1, 0, 0, 0], "0");

        await client.FlushAsync(cancellationToken);

        var warnings = logs.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(client.Statistics.Exported, Is.EqualTo(1));
            Assert.That(warnings, Has.Count.EqualTo(1), "said once while it lasts");
            Assert.That(warnings.Single(), Does.Contain("ResourceExhausted: " + Reason).And.Contain("re-sent after 10 ms"));
            Assert.That(logs.Entries.Count(e => e.Level == LogLevel.Debug && e.Message.Contains("shedding load", StringComparison.Ordinal)), Is.EqualTo(3));
        });
    }

    // What the server answers: every record labelled "bad" listed, the first also in record_index/message.
    private static LogAck RejectEveryBadRecord(LogBatch batch)
    {
        var error = new BatchError { Code = (int)StatusCode.InvalidArgument, RecordIndex = -1 };
        for (var i = 0; i < batch.Records.Count; i++)
        {
            if (batch.Records[i].Label == "bad")
            {
                error.Records.Add(new RecordError { RecordIndex = i, Message = $"records[{i}].label: bad" });
            }
        }

        if (error.Records.Count == 0)
        {
            return new LogAck { BatchId = batch.BatchId, Accepted = batch.Records.Count };
        }

        error.RecordIndex = error.Records[0].RecordIndex;
        error.Message = error.Records[0].Message;
        return new LogAck { BatchId = batch.BatchId, Error = error };
    }
}
