using Chroma.Protocol.V1;
using Chroma.Server.Tests.Services;
using Chroma.Server.Tests.TestSupport;
using Chroma.Server.Tests.Validation;
using Google.Protobuf;
using Grpc.Core;

namespace Chroma.Server.Tests.Reliability;

/// <summary>
/// Every kind of bad input, sent to one real server: each gets its own status and a message naming
/// the field, the stream or server keeps serving, and nothing stored changes. The batch and query
/// tables of <see cref="BatchValidatorTests"/> and <see cref="QueryServiceTests"/> are reused here
/// (this time over the wire, with the store checked), plus cases only the wire can carry.
/// </summary>
[TestFixture]
public sealed class BadInputMatrixTests
{
    private const string Marker = "#BADUTF8#";
    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(20);

    private RunningServer _server = null!;
    private string _setId = null!;

    /// <summary>What a bad input was answered with.</summary>
    /// <param name="Code">The gRPC status (of the ack's error or of the call).</param>
    /// <param name="Message">The error message.</param>
    /// <param name="RecordIndex">The ack's record index; -1 for calls.</param>
    public sealed record Answer(StatusCode Code, string Message, int RecordIndex);

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        // The same limits as the validator table, so its expected messages hold over the wire.
        _server = await RunningServer.StartAsync(o =>
        {
            o.Limits.MaxBatchRecords = 5;
            o.Limits.MaxDimension = 8;
        });
        _setId = Records.SetId(Records.Set(dimension: 4));
        Assert.That((await _server.LogAsync(SeedBatch())).Single().Accepted, Is.EqualTo(2));
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _server.DisposeAsync();

    public static IEnumerable<TestCaseData> BadInputs()
    {
        foreach (var data in BatchValidatorTests.BadBatches())
        {
            var breakIt = (Action<LogBatch>)data.Arguments[0]!;
            yield return Ingest(data.TestName!.Replace("Validate_", "Log_", StringComparison.Ordinal), b => { breakIt(b); return b.ToByteArray(); },
                StatusCode.InvalidArgument, (string)data.Arguments[1]!, (int)data.Arguments[2]!);
        }

        // Conflicts with what is stored: only the store can see them.
        yield return Ingest("Log_WrongDimensionForStoredSet_InvalidArgument", b =>
            {
                b.Set.Dimension = 3;
                foreach (var r in b.Records)
                {
                    r.Embedding.RemoveAt(3);
                }

                return b.ToByteArray();
            },
            StatusCode.InvalidArgument, "set.dimension: is 3, but embedding set 'model/1/fc' has dimension 4", -1);
        yield return Ingest("Log_StoredIdWithDifferentContent_AlreadyExists", b =>
            {
                b.Records[1].Id = SeedId;
                return b.ToByteArray();
            },
            StatusCode.AlreadyExists, $"records[1].id: {SeedId} is already stored in 'model/1/fc' with different content", 1);

        // Invalid UTF-8 (crafted bytes: no generated client can send them) in every kind of string field.
        // Google.Protobuf refuses the whole message; the server's binder names the field.
        yield return Utf8("BatchId", b => b.BatchId = Marker, "batch_id: is not valid UTF-8", -1);
        yield return Utf8("Label", b => b.Records[1].Label = Marker, "records[1].label: is not valid UTF-8", 1);
        yield return Utf8("InputUri", b => b.Records[0].InputUri = Marker, "records[0].input_uri: is not valid UTF-8", 0);
        yield return Utf8("MetadataValue", b => b.Records[0].Metadata["k"] = Marker, "records[0].metadata[\"k\"]: value is not valid UTF-8", 0);
        yield return Utf8("MetadataKey", b => b.Records[0].Metadata[Marker] = "v", "records[0].metadata: a key is not valid UTF-8", 0);
        yield return Utf8("PredictedClass", b => b.Records[0].Inference.PredictedClass = Marker, "records[0].inference.predicted_class: is not valid UTF-8", 0);
        yield return Utf8("ClassName", b => b.Records[1].Inference.ClassNames[1] = Marker, "records[1].inference.class_names[1]: is not valid UTF-8", 1);
        yield return Utf8("RecordId", b => b.Records[1].Id = Marker, "records[1].id: is not valid UTF-8", 1);
        yield return Utf8("Dataset", b => b.Records[0].Dataset = Marker, "records[0].dataset: is not valid UTF-8", 0);
        yield return Utf8("SetModel", b => b.Set.Model = Marker, "set.model: is not valid UTF-8", -1);

        // Bytes that are no message at all: cut off inside a record, or a length prefix of 2^32-1.
        yield return Ingest("Log_TruncatedBatch_InvalidArgument", b => b.ToByteArray()[..^7],
            StatusCode.InvalidArgument, "request: is not a valid chroma.v1.LogBatch message", -1);
        yield return Ingest("Log_HugeLengthPrefix_InvalidArgument", b => [.. b.ToByteArray(), 0x1A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F],
            StatusCode.InvalidArgument, "request: is not a valid chroma.v1.LogBatch message", -1);

        foreach (var data in QueryServiceTests.BadQueries())
        {
            var call = (Func<Query.QueryClient, string, Task>)data.Arguments[0]!;
            yield return Case(data.TestName!, async (server, setId) => await CallAsync(() => call(server.Query, setId)), (StatusCode)data.Arguments[1]!, (string)data.Arguments[2]!, -1);
        }

        yield return Case("Query_CountSetIdInvalidUtf8_InvalidArgument",
            (server, _) => CallAsync(() => RawCalls.CallQueryAsync(server.Channel, "CountRecords", RawCalls.WithInvalidUtf8(new CountRecordsRequest { SetId = Marker }, Marker), CallDeadline)),
            StatusCode.InvalidArgument, "set_id: is not valid UTF-8", -1);
        yield return Case("Query_TruncatedRequest_InvalidArgument",
            (server, setId) => CallAsync(() => RawCalls.CallQueryAsync(server.Channel, "CountRecords", new CountRecordsRequest { SetId = setId }.ToByteArray()[..^3], CallDeadline)),
            StatusCode.InvalidArgument, "request: is not a valid chroma.v1.CountRecordsRequest message", -1);
        yield return Case("Query_TagValueInvalidUtf8_InvalidArgument",
            (server, setId) => CallAsync(() => RawCalls.CallQueryAsync(server.Channel, "TagRecords", RawCalls.WithInvalidUtf8(
                new TagRecordsRequest { SetId = setId, Ids = { SeedId }, Tags = { ["k"] = Marker } }, Marker), CallDeadline)),
            StatusCode.InvalidArgument, "tags[\"k\"]: value is not valid UTF-8", -1);
    }

    [TestCaseSource(nameof(BadInputs)), CancelAfter(30_000)]
    public async Task BadInput_SentToRealServer_SpecificStatusNamingTheFieldAndStoreUnchanged(Delegate act, StatusCode code, string fragment, int recordIndex)
    {
        // Arrange (loosely typed: the protocol types are internal to the server)
        var before = await StoreCountsAsync();

        // Act
        var answer = await ((Func<RunningServer, string, Task<Answer>>)act)(_server, _setId);

        // Assert: the answer, an unchanged store, and a server that still serves a good request.
        var after = await StoreCountsAsync();
        var health = await _server.Query.CountRecordsAsync(new CountRecordsRequest { SetId = _setId }, deadline: DateTime.UtcNow + CallDeadline);
        Assert.Multiple(() =>
        {
            Assert.That(answer.Code, Is.EqualTo(code), answer.Message);
            Assert.That(answer.Message, Does.Contain(fragment));
            Assert.That(answer.RecordIndex, Is.EqualTo(recordIndex));
            Assert.That(after, Is.EqualTo(before), "stored sets and records");
            Assert.That(health.Count, Is.EqualTo(2));
        });
    }

    private static string SeedId => "0190a000-0000-7000-8000-00000000beef";

    private static TestCaseData Case(string name, Func<RunningServer, string, Task<Answer>> act, StatusCode code, string fragment, int recordIndex) =>
        new TestCaseData(act, code, fragment, recordIndex).SetName("Matrix_" + name);

    private static TestCaseData Utf8(string field, Action<LogBatch> plant, string fragment, int recordIndex) =>
        Ingest($"Log_{field}InvalidUtf8_InvalidArgument", b => { plant(b); return RawCalls.WithInvalidUtf8(b, Marker); }, StatusCode.InvalidArgument, fragment, recordIndex);

    /// <summary>A bad batch on a raw stream, then the seed batch again on the same stream: it must be served (as duplicates).</summary>
    private static TestCaseData Ingest(string name, Func<LogBatch, byte[]> payload, StatusCode code, string fragment, int recordIndex) =>
        Case(name, async (server, _) =>
        {
            var batch = Records.Batch(Records.Set(dimension: 4), Records.Sequence(2));
            var bytes = payload(batch);
            using var call = RawCalls.OpenIngest(server.Channel, CallDeadline);
            await call.RequestStream.WriteAsync(bytes);
            Assert.That(await call.ResponseStream.MoveNext(CancellationToken.None), Is.True, "an ack for the bad batch");
            var ack = call.ResponseStream.Current;

            // Even a batch that could not be decoded is acked under its id, so the client can match it.
            Assert.That(ack.BatchId, Is.EqualTo(batch.BatchId == Marker ? string.Empty : batch.BatchId), "ack's batch id");
            await call.RequestStream.WriteAsync(SeedBatch().ToByteArray());
            Assert.That(await call.ResponseStream.MoveNext(CancellationToken.None), Is.True, "an ack for the good batch");
            Assert.That(call.ResponseStream.Current.Duplicates, Is.EqualTo(2), "the stream still serves");
            await call.RequestStream.CompleteAsync();
            return ack.Error is null
                ? new Answer(StatusCode.OK, $"accepted {ack.Accepted}", -1)
                : new Answer((StatusCode)ack.Error.Code, ack.Error.Message, ack.Error.RecordIndex);
        }, code, fragment, recordIndex);

    /// <summary>The two records stored before the cases run; fixed ids and content, so sending it again only counts duplicates.</summary>
    private static LogBatch SeedBatch()
    {
        var records = Records.Sequence(2, start: 1000);
        records[0].Id = SeedId;
        records[1].Id = "0190a000-0000-7000-8000-00000000cafe";
        return Records.Batch(Records.Set(dimension: 4), records);
    }

    private static async Task<Answer> CallAsync(Func<Task> call)
    {
        try
        {
            await call();
            return new Answer(StatusCode.OK, "the call succeeded", -1);
        }
        catch (RpcException ex)
        {
            return new Answer(ex.StatusCode, ex.Status.Detail, -1);
        }
    }

    private async Task<(int Sets, long Records)> StoreCountsAsync()
    {
        var sets = await _server.Query.ListSetsAsync(new ListSetsRequest(), deadline: DateTime.UtcNow + CallDeadline);
        return (sets.Sets.Count, sets.Sets.Sum(s => s.TotalRecords));
    }
}
