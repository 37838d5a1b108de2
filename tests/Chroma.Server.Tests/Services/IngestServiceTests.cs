using Chroma.Protocol.V1;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;

namespace Chroma.Server.Tests.Services;

[TestFixture]
public sealed class IngestServiceTests
{
    private RunningServer _server = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _server = await RunningServer.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await _server.DisposeAsync();

    [Test, CancelAfter(30_000)]
    public async Task Log_GoodBatch_AcksAcceptedWithBatchId()
    {
        // Arrange
        var batch = Records.Batch(Records.Set(model: "good"), Records.Sequence(5));

        // Act
        var ack = (await _server.LogAsync(batch)).Single();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ack.BatchId, Is.EqualTo(batch.BatchId));
            Assert.That(ack.Accepted, Is.EqualTo(5));
            Assert.That(ack.Duplicates, Is.Zero);
            Assert.That(ack.Error, Is.Null);
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Log_RecordWithoutATimestamp_StoredWithTheTimeReceivedAndARetryIsADuplicate()
    {
        // Arrange: timestamp_unix_ms 0 is "unknown" (records.proto).
        var set = Records.Set(model: "no-timestamp");
        var batch = Records.Batch(set, Records.Sequence(2));
        foreach (var record in batch.Records)
        {
            record.TimestampUnixMs = 0;
        }

        // Act
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var first = (await _server.LogAsync(batch)).Single();
        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var retry = (await _server.LogAsync(batch.Clone())).Single();
        var stored = await _server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = Records.SetId(set) });

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That((first.Accepted, retry.Accepted, retry.Duplicates), Is.EqualTo((2, 0, 2)));
            Assert.That(stored.Records.Select(r => r.Record.TimestampUnixMs), Has.All.InRange(before, after));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Log_BatchOverTheRecordLimit_RejectedWithTheLimitInItsOwnFieldOtherErrorsWithout()
    {
        // Arrange: one record more than the default limit (10,000), and a batch with an invalid record.
        var set = Records.Set(model: "over-limit");
        var tooMany = Records.Batch(set, Records.Sequence(10_001));
        var bad = Records.Batch(set, Records.Sequence(3));
        bad.Records[1].Embedding[0] = float.NaN;

        // Act
        var acks = await _server.LogAsync(tooMany, bad);

        // Assert: a client splits to the field's value without reading the message's wording.
        Assert.Multiple(() =>
        {
            Assert.That(acks[0].Error.Message, Does.Contain("batch has 10001 records, limit 10000"));
            Assert.That(acks[0].Error.MaxBatchRecords, Is.EqualTo(10_000));
            Assert.That(acks[1].Error.RecordIndex, Is.EqualTo(1));
            Assert.That(acks[1].Error.MaxBatchRecords, Is.Zero);
        });
    }

    // The proto asks for a batch_id, but a client that leaves it out (one batch at a time, acks matched by order) must
    // not lose its data: the batch is stored and acked with an empty batch_id.
    [Test, CancelAfter(30_000)]
    public async Task Log_BatchWithoutBatchId_StoredAndAckedWithEmptyBatchId()
    {
        // Arrange
        var batch = Records.Batch(Records.Set(model: "no-batch-id"), Records.Sequence(3));
        batch.BatchId = string.Empty;

        // Act
        var ack = (await _server.LogAsync(batch)).Single();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ack.BatchId, Is.Empty);
            Assert.That(ack.Accepted, Is.EqualTo(3));
            Assert.That(ack.Error, Is.Null);
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Log_BatchOverTheMessageLimit_StreamEndsWithResourceExhaustedNamingTheLimitAfterAckingTheEarlierBatch()
    {
        // Arrange: a 64 KiB message limit, a small batch, then one of about 2,000 records (well over 64 KiB).
        await using var server = await RunningServer.StartAsync(o => o.Limits.MaxMessageBytes = 64 * 1024);
        var set = Records.Set(model: "oversized");
        var small = Records.Batch(set, Records.Sequence(2));
        var large = Records.Batch(set, Records.Sequence(2_000, start: 10));
        using var call = server.Ingest.Log(deadline: DateTime.UtcNow.AddSeconds(30));

        // Act
        await call.RequestStream.WriteAsync(small);
        Assert.That(await call.ResponseStream.MoveNext(CancellationToken.None), Is.True);
        var ack = call.ResponseStream.Current;
        try
        {
            await call.RequestStream.WriteAsync(large);
        }
        catch (RpcException)
        {
            // The server may end the call while the batch is still being sent; its status is read below.
        }

        var error = Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext(CancellationToken.None));

        // Assert: before, the status only said "Received message exceeds the maximum configured message size."
        Assert.That(ack.Accepted, Is.EqualTo(2));
        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(error.Status.Detail, Does.StartWith("request: a LogBatch is larger than the server's message limit of 65536 bytes (Chroma:Limits:MaxMessageBytes)"));
    }

    [Test, CancelAfter(30_000)]
    public async Task Log_BadBatchThenGoodBatchOnSameStream_RejectsFirstAcceptsSecondStoresOnlySecond()
    {
        // Arrange: the bad batch's first record is fine; its third has a NaN.
        var set = Records.Set(model: "mixed");
        var bad = Records.Batch(set, Records.Sequence(3));
        bad.Records[2].Embedding[1] = float.NaN;
        var good = Records.Batch(set, Records.Sequence(2, start: 10));

        // Act
        var acks = await _server.LogAsync(bad, good);

        // Assert
        var count = await _server.Query.CountRecordsAsync(new CountRecordsRequest { SetId = Records.SetId(set) });
        Assert.Multiple(() =>
        {
            Assert.That(acks[0].BatchId, Is.EqualTo(bad.BatchId));
            Assert.That(acks[0].Accepted, Is.Zero);
            Assert.That(acks[0].Error.Code, Is.EqualTo((int)StatusCode.InvalidArgument));
            Assert.That(acks[0].Error.Message, Is.EqualTo("records[2].embedding[1]: value is NaN"));
            Assert.That(acks[0].Error.RecordIndex, Is.EqualTo(2));
            Assert.That(acks[1].Accepted, Is.EqualTo(2));
            Assert.That(acks[1].Error, Is.Null);
            Assert.That(count.Count, Is.EqualTo(2), "nothing of the rejected batch was stored");
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Log_BatchWithSeveralBadRecords_OneAckListsEveryBadRecordAndNothingIsStored()
    {
        // Arrange: records 0, 2 and 5 of 6 are bad in different ways.
        var set = Records.Set(model: "manybad");
        var batch = Records.Batch(set, Records.Sequence(6));
        batch.Records[0].Metadata["text"] = new string('t', 1500);
        batch.Records[2].Embedding[1] = float.NaN;
        batch.Records[5].InputUri = new string('u', 2049);
        var good = Records.Batch(set, Records.Sequence(2, start: 10));

        // Act
        var acks = await _server.LogAsync(batch, good);

        // Assert
        var count = await _server.Query.CountRecordsAsync(new CountRecordsRequest { SetId = Records.SetId(set) });
        var error = acks[0].Error;
        Assert.Multiple(() =>
        {
            Assert.That(acks, Has.Count.EqualTo(2));
            Assert.That(acks[0].Accepted, Is.Zero);
            Assert.That(error.Code, Is.EqualTo((int)StatusCode.InvalidArgument));
            Assert.That(error.RecordIndex, Is.Zero, "the first offending record, as before");
            Assert.That(error.Message, Is.EqualTo("records[0].metadata[\"text\"]: value is 1500 characters, limit 1024"));
            Assert.That(error.Records.Select(r => r.RecordIndex), Is.EqualTo(new[] { 0, 2, 5 }));
            Assert.That(error.Records[0].Message, Is.EqualTo(error.Message));
            Assert.That(error.Records[1].Message, Is.EqualTo("records[2].embedding[1]: value is NaN"));
            Assert.That(error.Records[2].Message, Does.StartWith("records[5].input_uri: is 2049 characters, limit 2048"));
            Assert.That(acks[1].Error, Is.Null);
            Assert.That(count.Count, Is.EqualTo(2), "nothing of the rejected batch was stored, only the next batch");
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Log_ResentBatch_CountsDuplicates()
    {
        // Arrange
        var batch = Records.Batch(Records.Set(model: "resent"), Records.Sequence(4));
        await _server.LogAsync(batch);

        // Act
        var ack = (await _server.LogAsync(batch)).Single();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ack.Accepted, Is.Zero);
            Assert.That(ack.Duplicates, Is.EqualTo(4));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Log_ConflictThenDimensionMismatchThenGood_EachErrorAckedAndStreamContinues()
    {
        // Arrange
        var set = Records.Set(model: "conflict");
        var original = Records.Sequence(2);
        await _server.LogAsync(Records.Batch(set, original));
        var changed = original[1].Clone();
        changed.Dataset = "production";
        var conflict = Records.Batch(set, Records.Sequence(1, start: 20)[0], changed);
        var wrongDimension = Records.Batch(Records.Set(dimension: 3, model: "conflict"), Records.Sequence(1, dimension: 3, start: 30));
        var good = Records.Batch(set, Records.Sequence(1, start: 40));

        // Act
        var acks = await _server.LogAsync(conflict, wrongDimension, good);

        // Assert
        var count = await _server.Query.CountRecordsAsync(new CountRecordsRequest { SetId = Records.SetId(set) });
        Assert.Multiple(() =>
        {
            Assert.That(acks[0].Error.Code, Is.EqualTo((int)StatusCode.AlreadyExists));
            Assert.That(acks[0].Error.RecordIndex, Is.EqualTo(1));
            Assert.That(acks[0].Error.Message, Does.Contain(original[1].Id));
            Assert.That(acks[1].Error.Code, Is.EqualTo((int)StatusCode.InvalidArgument));
            Assert.That(acks[1].Error.Message, Does.StartWith("set.dimension:"));
            Assert.That(acks[2].Accepted, Is.EqualTo(1));
            Assert.That(count.Count, Is.EqualTo(3), "two originals and the good batch");
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Log_DeletedIdWithDifferentContent_AlreadyExistsSayingTheIdWasDeletedAndCannotBeReused()
    {
        // Arrange: a record stored, then deleted (a deleted id stays deleted, query.proto says).
        var set = Records.Set(model: "reuse");
        var original = Records.Sequence(2);
        await _server.LogAsync(Records.Batch(set, original));
        var deleted = await _server.Query.DeleteRecordsAsync(new DeleteRecordsRequest { SetId = Records.SetId(set), Ids = { original[1].Id } });
        Assert.That(deleted.Deleted, Is.EqualTo(1));
        var changed = original[1].Clone();
        changed.Embedding[0] = 99;

        // Act: the same content again is a duplicate; other content is refused.
        var acks = await _server.LogAsync(Records.Batch(set, original[1]), Records.Batch(set, Records.Sequence(1, start: 20)[0], changed));

        // Assert: before, the message said the id "is already stored with different content", which a user who had
        // deleted it could not make sense of.
        var count = await _server.Query.CountRecordsAsync(new CountRecordsRequest { SetId = Records.SetId(set) });
        Assert.Multiple(() =>
        {
            Assert.That(acks[0].Duplicates, Is.EqualTo(1));
            Assert.That(acks[0].Error, Is.Null);
            Assert.That(acks[1].Error?.Code, Is.EqualTo((int)StatusCode.AlreadyExists));
            Assert.That(acks[1].Error?.RecordIndex, Is.EqualTo(1));
            Assert.That(acks[1].Error?.Message, Does.StartWith($"records[1].id: {original[1].Id.ToLowerInvariant()} was deleted from 'reuse/1/fc'")
                .And.Contain("cannot be reused").And.Not.Contain("already stored"));
            Assert.That(count.Count, Is.EqualTo(1), "the other record only: the batch stored nothing");
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Log_EmptyBatch_AcksInvalidArgumentForTheBatch()
    {
        // Arrange
        var batch = Records.Batch(Records.Set(model: "empty"));

        // Act
        var ack = (await _server.LogAsync(batch)).Single();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ack.Error.Code, Is.EqualTo((int)StatusCode.InvalidArgument));
            Assert.That(ack.Error.Message, Is.EqualTo("records: batch is empty"));
            Assert.That(ack.Error.RecordIndex, Is.EqualTo(-1));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Log_FourConcurrentStreams_EveryRecordStoredOnce()
    {
        // Arrange: four streams of ten 200-record batches each, into one set.
        var set = Records.Set(dimension: 16, model: "concurrent");
        var streams = Enumerable.Range(0, 4)
            .Select(s => Enumerable.Range(0, 10).Select(b => Records.Batch(set, Records.Sequence(200, 16, start: (s * 10_000) + (b * 200)))).ToArray())
            .ToList();

        // Act
        var acks = await Task.WhenAll(streams.Select(batches => _server.LogAsync(batches)));

        // Assert
        var count = await _server.Query.CountRecordsAsync(new CountRecordsRequest { SetId = Records.SetId(set) });
        Assert.Multiple(() =>
        {
            Assert.That(acks.SelectMany(a => a).Sum(a => a.Accepted), Is.EqualTo(8_000));
            Assert.That(acks.SelectMany(a => a).All(a => a.Error is null), Is.True);
            Assert.That(count.Count, Is.EqualTo(8_000));
        });
    }
}
