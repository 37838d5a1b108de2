using Chroma.Protocol.V1;
using Chroma.Server.Tests.Reliability;
using Chroma.Server.Tests.TestSupport;
using Google.Protobuf;
using Grpc.Core;

namespace Chroma.Server.Tests.Services;

/// <summary>
/// The recovery ingest.proto documents for a rejected batch: drop every record listed in <c>BatchError.records</c> and
/// re-send the rest once. It converges only when every record the server refuses is listed, whatever the kind:
/// all-zero embeddings of a cosine set and strings that are not valid UTF-8 were refused without being listed.
/// </summary>
[TestFixture]
public sealed class IngestRejectionListTests
{
    private const string Marker = "#BADUTF8#";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private RunningServer _server = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _server = await RunningServer.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await _server.DisposeAsync();

    [Test, CancelAfter(30_000)]
    public async Task Log_CosineBatchWithZeroAndNaNEmbeddings_ListsEachAndTheResentRestIsStored()
    {
        // Arrange: the probe's batch [valid, all-zero, NaN], plus -0.0 everywhere (as zero) and a second valid record.
        var set = Cosine("cosinezeros");
        Record[] records = [Valid(), Records.Make([0, 0, 0, 0]), Records.Make([float.NaN, 0, 0, 1]), Records.Make([-0f, -0f, -0f, -0f]), Valid()];
        var batch = Records.Batch(set, records);

        // Act
        var first = (await _server.LogAsync(batch)).Single();
        var resent = (await _server.LogAsync(WithoutListed(batch, first))).Single();

        // Assert
        var zeros = $"is all zeros, which has no direction under the cosine metric of embedding set '{Records.SetId(set)}'";
        Assert.Multiple(() =>
        {
            Assert.That(first.Error.Records.Select(r => (r.RecordIndex, r.Message)), Is.EqualTo(new[]
            {
                (1, $"records[1].embedding: {zeros}"),
                (2, "records[2].embedding[0]: value is NaN"),
                (3, $"records[3].embedding: {zeros}"),
            }));
            Assert.That((first.Error.RecordIndex, first.Error.Message), Is.EqualTo((1, $"records[1].embedding: {zeros}")));
            Assert.That(resent.Error, Is.Null, "the re-sent rest is stored");
            Assert.That(resent.Accepted, Is.EqualTo(2));
        });
        await AssertStoredAsync(set, records[0], records[4]);
    }

    [Test, CancelAfter(30_000)]
    public async Task Log_StoredCosineSetBatchNamingNoMetric_ListsTheZeroEmbeddingWithTheNaN()
    {
        // Arrange: the set is cosine because it was created so; the batch leaves the metric unspecified.
        var set = Cosine("cosinestored");
        Assert.That((await _server.LogAsync(Records.Batch(set, Valid()))).Single().Error, Is.Null);
        set.Metric = DistanceMetric.Unspecified;
        Record[] records = [Valid(), Records.Make([0, 0, 0, 0]), Records.Make([1, float.NaN, 0, 1])];
        var batch = Records.Batch(set, records);

        // Act
        var first = (await _server.LogAsync(batch)).Single();
        var resent = (await _server.LogAsync(WithoutListed(batch, first))).Single();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(first.Error.Records.Select(r => r.RecordIndex), Is.EqualTo(new[] { 1, 2 }));
            Assert.That(first.Error.Records[0].Message, Does.StartWith("records[1].embedding: is all zeros"));
            Assert.That(resent.Accepted, Is.EqualTo(1), resent.Error?.Message);
        });
        await AssertStoredAsync(set, records[0]);
    }

    [Test, CancelAfter(30_000)]
    public async Task Log_BatchMixingValidRecordsWithEveryInvalidKind_ListsEachInvalidOneAndTheResentRestIsStored()
    {
        // Arrange: a cosine set; valid records at 0, 3 and 11, one invalid record of each kind between them.
        var set = Cosine("everykind");
        var records = Enumerable.Range(0, 12).Select(_ => Valid()).ToArray();
        records[1].Metadata["k"] = Marker;                         // not valid UTF-8 (the batch is decoded record by record)
        records[2].Embedding[1] = float.NaN;                       // not finite
        records[4].Embedding.Clear();                              // all zeros in a cosine set
        records[4].Embedding.AddRange([0, 0, 0, 0]);
        records[5].Label = Marker;                                 // not valid UTF-8
        records[6].Label = new string('l', 1025);                  // over the limit
        records[7].Embedding.RemoveAt(3);                          // wrong dimension
        records[8].Dataset = "a b";                                // bad dataset name
        records[9].Id = Marker;                                    // not valid UTF-8
        records[10].Id = records[3].Id;                            // repeats a valid record's id
        records[10].Label = "other";
        var batch = Records.Batch(set, records);

        // Act
        var first = await SendRawAsync(RawCalls.WithInvalidUtf8(batch, Marker));
        var rest = WithoutListed(batch, first);
        var resent = await SendRawAsync(rest.ToByteArray());

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(first.BatchId, Is.EqualTo(batch.BatchId));
            Assert.That(first.Error.Code, Is.EqualTo((int)StatusCode.InvalidArgument));
            Assert.That(first.Error.Records.Select(r => r.RecordIndex), Is.EqualTo(new[] { 1, 2, 4, 5, 6, 7, 8, 9, 10 }));
            Assert.That(first.Error.Records.Select(r => r.Message), Is.EqualTo(new[]
            {
                "records[1].metadata[\"k\"]: value is not valid UTF-8",
                "records[2].embedding[1]: value is NaN",
                $"records[4].embedding: is all zeros, which has no direction under the cosine metric of embedding set '{Records.SetId(set)}'",
                "records[5].label: is not valid UTF-8",
                "records[6].label: is 1025 characters, limit 1024",
                "records[7].embedding: has 3 values, the set's dimension is 4",
                "records[8].dataset: character 2 (U+0020) is not one of [A-Za-z0-9_.-]",
                "records[9].id: is not valid UTF-8",
                $"records[10].id: {records[3].Id} repeats records[3].id in the same batch",
            }));
            Assert.That((first.Error.RecordIndex, first.Error.Message), Is.EqualTo((1, first.Error.Records[0].Message)));
            Assert.That(rest.Records, Has.Count.EqualTo(3));
            Assert.That(resent.Error, Is.Null, "the re-sent rest is stored");
            Assert.That(resent.Accepted, Is.EqualTo(3));
        });
        await AssertStoredAsync(set, records[0], records[3], records[11]);
    }

    [Test, CancelAfter(30_000)]
    public async Task Log_BatchIdNotValidUtf8_WholeBatchRefusedWithoutRecordList()
    {
        // Arrange: a problem of the batch itself, next to a record that is invalid too.
        var set = Cosine("badbatchid");
        var batch = Records.Batch(set, Valid(), Records.Make([float.NaN, 0, 0, 1]));
        batch.BatchId = Marker;

        // Act
        var ack = await SendRawAsync(RawCalls.WithInvalidUtf8(batch, Marker));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That((ack.Error.RecordIndex, ack.Error.Message), Is.EqualTo((-1, "batch_id: is not valid UTF-8")));
            Assert.That(ack.Error.Records, Is.Empty);
        });
    }

    private static EmbeddingSetDescriptor Cosine(string model)
    {
        var set = Records.Set(model: model);
        set.Metric = DistanceMetric.Cosine;
        return set;
    }

    private static Record Valid() => Records.Make([1, 2, 3, 4], "production");

    // The documented recovery: the same batch (same batch_id) without the listed records.
    private static LogBatch WithoutListed(LogBatch batch, LogAck ack)
    {
        Assert.That(ack.Error, Is.Not.Null, "the first batch is rejected");
        var listed = ack.Error.Records.Select(r => r.RecordIndex).ToHashSet();
        var rest = new LogBatch { BatchId = batch.BatchId, Set = batch.Set.Clone() };
        rest.Records.AddRange(batch.Records.Where((_, i) => !listed.Contains(i)));
        return rest;
    }

    private async Task<LogAck> SendRawAsync(byte[] batch)
    {
        using var call = RawCalls.OpenIngest(_server.Channel, Deadline);
        await call.RequestStream.WriteAsync(batch);
        Assert.That(await call.ResponseStream.MoveNext(CancellationToken.None), Is.True, "an ack for the batch");
        var ack = call.ResponseStream.Current;
        await call.RequestStream.CompleteAsync();
        return ack;
    }

    private async Task AssertStoredAsync(EmbeddingSetDescriptor set, params Record[] expected)
    {
        var setId = Records.SetId(set);
        var stored = await _server.Query.GetRecordsAsync(
            new GetRecordsRequest { SetId = setId, Ids = { expected.Select(r => r.Id) } }, deadline: DateTime.UtcNow + Deadline);
        Assert.That(stored.Records.Select(r => r.Record.Id), Is.EqualTo(expected.Select(r => r.Id)), "every valid record is stored");
    }
}
