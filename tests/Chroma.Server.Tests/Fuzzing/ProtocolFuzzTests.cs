using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Chroma.Protocol.V1;
using Chroma.Server.Tests.Reliability;
using Chroma.Server.Tests.TestSupport;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.Extensions.Logging;

namespace Chroma.Server.Tests.Fuzzing;

/// <summary>
/// Feeds the real server (in process, on 127.0.0.1) random and mutated protobuf messages: LogBatch
/// over ingest streams and requests of every Query method. Fixed seed; the count comes from
/// <c>CHROMA_FUZZ_ITERATIONS</c> (default 100 000) for longer runs.
/// </summary>
[TestFixture]
[Category("fuzz")]
public sealed class ProtocolFuzzTests
{
    private const int Seed = 20_261_123;
    private const int Workers = 4;
    private const int Dimension = 8;
    private static readonly string[] QueryMethods = ["ListSets", "GetRecords", "CountRecords", "FindNearest", "DeleteRecords", "TagRecords"];

    [Test, CancelAfter(300_000)]
    public async Task Fuzz_MutatedIngestAndQueryMessages_NoUnhandledExceptionNoHangAndServerStillServes()
    {
        // Arrange
        var iterations = int.TryParse(Environment.GetEnvironmentVariable("CHROMA_FUZZ_ITERATIONS"), CultureInfo.InvariantCulture, out var n) ? n : 100_000;
        var ingestPerWorker = iterations * 4 / 5 / Workers;
        var queriesPerWorker = (iterations - (ingestPerWorker * Workers)) / Workers;
        await using var server = await LoggedServer.StartAsync(minimumLevel: LogLevel.Warning);
        var seeds = SeedMessages(new Random(Seed));
        var ingest = new Ingest.IngestClient(server.Invoker);
        using (var call = ingest.Log(deadline: DateTime.UtcNow.AddSeconds(30)))
        {
            await call.RequestStream.WriteAsync(LogBatch.Parser.ParseFrom(seeds.Batches[0]));
            Assert.That(await call.ResponseStream.MoveNext(CancellationToken.None), Is.True);
            Assert.That(call.ResponseStream.Current.Accepted, Is.EqualTo(3), "seed batch stored");
            await call.RequestStream.CompleteAsync();
        }

        var statuses = new ConcurrentDictionary<string, int>();

        // Act
        var stopwatch = Stopwatch.StartNew();
        var acks = await Task.WhenAll(Enumerable.Range(0, Workers).Select(w => Task.Run(() => FuzzIngestAsync(server, seeds, Seed + w, ingestPerWorker))));
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(w => Task.Run(() => FuzzQueriesAsync(server, seeds, Seed + 100 + w, queriesPerWorker, statuses))));
        stopwatch.Stop();

        // Assert: every batch acked, no call failed as the server's fault, no error logged, still serving.
        var sent = (ingestPerWorker + queriesPerWorker) * Workers;
        await TestContext.Out.WriteLineAsync(
            $"fuzz: {sent:N0} messages ({ingestPerWorker * Workers:N0} LogBatch, {queriesPerWorker * Workers:N0} queries) in {stopwatch.Elapsed.TotalSeconds:F1} s; " +
            $"ack errors {string.Join(", ", acks.SelectMany(a => a).GroupBy(c => c).OrderBy(g => g.Key).Select(g => $"{g.Key}={g.Count()}"))}; " +
            $"query statuses {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}={s.Value}"))}");
        var errors = server.Logs.Entries.Where(e => e.Level >= LogLevel.Error).Select(e => $"{e.Category}: {e.Message} {e.Exception}").ToList();
        var health = await new Health.HealthClient(server.Channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
        var good = await LogOneAsync(ingest, Records.Batch(Records.Set(dimension: Dimension, model: "after-fuzz"), Records.Sequence(3, Dimension)));
        Assert.Multiple(() =>
        {
            Assert.That(acks.Sum(a => a.Count), Is.EqualTo(ingestPerWorker * Workers), "one ack per LogBatch sent");
            Assert.That(statuses.Keys, Has.None.EqualTo(nameof(StatusCode.Unknown)).And.None.EqualTo(nameof(StatusCode.Internal)), "server faults");
            Assert.That(errors, Is.Empty, "error logs");
            Assert.That(health.Status, Is.EqualTo(HealthCheckResponse.Types.ServingStatus.Serving));
            Assert.That(good.Accepted, Is.EqualTo(3), "a good batch after the fuzzing");
        });
    }

    /// <summary>Writes mutated batches on one stream while reading the acks; returns each ack's error code (0 = stored).</summary>
    private static async Task<List<int>> FuzzIngestAsync(LoggedServer server, SeedSet seeds, int seed, int count)
    {
        var mutator = new MessageMutator(seed);
        using var call = server.Channel.CreateCallInvoker().AsyncDuplexStreamingCall(
            RawCalls.IngestLog, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(240)));
        var reader = Task.Run(async () =>
        {
            var codes = new List<int>(count);
            while (codes.Count < count && await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                codes.Add(call.ResponseStream.Current.Error?.Code ?? 0);
            }

            return codes;
        });
        for (var i = 0; i < count; i++)
        {
            var batch = seeds.Batches[mutator.Next(seeds.Batches.Count)];
            var other = seeds.Batches[mutator.Next(seeds.Batches.Count)];
            await call.RequestStream.WriteAsync(mutator.Mutate(batch, other));
        }

        await call.RequestStream.CompleteAsync();
        return await reader;
    }

    private static async Task FuzzQueriesAsync(LoggedServer server, SeedSet seeds, int seed, int count, ConcurrentDictionary<string, int> statuses)
    {
        var mutator = new MessageMutator(seed);
        var invoker = server.Channel.CreateCallInvoker();
        for (var i = 0; i < count; i++)
        {
            var method = mutator.Next(QueryMethods.Length);
            var request = seeds.Queries[method];
            string status;
            try
            {
                await invoker.AsyncUnaryCall(
                    RawCalls.Query(QueryMethods[method]), null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)), mutator.Mutate(request, request)).ResponseAsync;
                status = nameof(StatusCode.OK);
            }
            catch (RpcException ex)
            {
                status = ex.StatusCode.ToString();
            }

            statuses.AddOrUpdate(status, 1, static (_, c) => c + 1);
        }
    }

    private static async Task<LogAck> LogOneAsync(Ingest.IngestClient ingest, LogBatch batch)
    {
        using var call = ingest.Log(deadline: DateTime.UtcNow.AddSeconds(30));
        await call.RequestStream.WriteAsync(batch);
        Assert.That(await call.ResponseStream.MoveNext(CancellationToken.None), Is.True);
        await call.RequestStream.CompleteAsync();
        return call.ResponseStream.Current;
    }

    /// <summary>Valid messages to mutate: eight small batches and one request per Query method, all from the seeded random.</summary>
    private static SeedSet SeedMessages(Random random)
    {
        string NextId()
        {
            var bytes = new byte[16];
            random.NextBytes(bytes);
            return new Guid(bytes).ToString();
        }

        var set = new EmbeddingSetDescriptor { Model = "fuzz", ModelVersion = "1", Layer = "fc", Dimension = Dimension };
        var batches = new List<byte[]>();
        var ids = new List<string>();
        for (var b = 0; b < 8; b++)
        {
            var batch = new LogBatch { BatchId = NextId(), Set = set.Clone() };
            for (var r = 0; r < 3; r++)
            {
                var record = Records.Make([.. Enumerable.Range(0, Dimension).Select(_ => (float)random.NextDouble())], label: "cat", metadata: new Dictionary<string, string> { ["k"] = "v" });
                record.Id = NextId();
                ids.Add(record.Id);
                batch.Records.Add(record);
            }

            batches.Add(batch.ToByteArray());
        }

        var setId = "fuzz/1/fc";
        byte[][] queries =
        [
            new ListSetsRequest().ToByteArray(),
            new GetRecordsRequest { SetId = setId, PageSize = 5, IncludeEmbeddings = true, Filter = new RecordFilter { Dataset = "training", Metadata = { ["k"] = "v" } } }.ToByteArray(),
            new CountRecordsRequest { SetId = setId, Filter = new RecordFilter { Dataset = "training" } }.ToByteArray(),
            new FindNearestRequest { SetId = setId, K = 3, Embedding = new Vector { Values = { Enumerable.Repeat(0.5f, Dimension) } }, Dataset = "training" }.ToByteArray(),
            new DeleteRecordsRequest { SetId = setId, Ids = { ids[^1] } }.ToByteArray(),
            new TagRecordsRequest { SetId = setId, Ids = { ids[0], ids[1] }, Tags = { ["review"] = "yes" } }.ToByteArray(),
        ];
        return new SeedSet(batches, queries);
    }

    private sealed record SeedSet(List<byte[]> Batches, byte[][] Queries);
}
