using Chroma.Protocol.V1;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Sqlite;
using Chroma.Server.Tests.Reliability;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Chroma.Server.Tests.Services;

/// <summary>
/// Cosine sets whose embeddings have tiny values (outside-in probe F1): every value 1e-30, or the float32 denormal
/// 1e-45. Their float32 squared norm underflows to 0, yet they have a direction: they are stored, indexed and searched
/// like any other, also after a restart; only an all-zero embedding has no direction and is refused.
/// </summary>
[TestFixture]
public sealed class CosineTinyEmbeddingTests
{
    private const int Dimension = 8;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [TestCase(1e-30f, false)]
    [TestCase(1e-45f, false)]
    [TestCase(1e-30f, true)]
    [TestCase(1e-45f, true)]
    [CancelAfter(180_000)]
    public async Task FindNearest_CosineSetWithTinyRecords_IndexesThemAndAnswersAlsoAfterARestart(float tiny, bool hnsw, CancellationToken cancellationToken)
    {
        // Arrange: ordinary records, then the tiny one (every value tiny) and one with a single tiny value, then more
        // ordinary ones, among them one of the tiny record's direction (every value 1).
        using var directory = new TempDirectory();
        var set = CosineSet();
        var setId = Records.SetId(set);
        var random = new Random(11);
        var before = Enumerable.Range(0, 40).Select(_ => Records.Make(RandomVector(random), "production")).ToArray();
        var tinyRecord = Records.Make(Enumerable.Repeat(tiny, Dimension).ToArray(), "production");
        var loneTiny = Records.Make([0, 0, tiny, 0, 0, 0, 0, 0], "production");
        var sameDirection = Records.Make(Enumerable.Repeat(1f, Dimension).ToArray(), "production");
        var after = Enumerable.Range(0, 10).Select(_ => Records.Make(RandomVector(random), "production")).Append(sameDirection).ToArray();
        const int stored = 40 + 2 + 11;
        void Configure(Chroma.Server.Hosting.ChromaServerOptions o) => o.Indexing.ExactSearchThreshold = hnsw ? 16 : 5_000;

        List<LogAck> acks;
        long indexedBeforeRestart;
        FindNearestResponse fromTiny, byTiny, byLone, fromAfter;
        await using (var first = await RunningServer.StartAsync(Configure, directory.Path))
        {
            // Act
            acks = await first.LogAsync(Records.Batch(set, before), Records.Batch(set, tinyRecord, loneTiny), Records.Batch(set, after));
            indexedBeforeRestart = await WaitIndexedAsync(first, setId, stored, cancellationToken);
            fromTiny = await NearestAsync(first, new FindNearestRequest { SetId = setId, RecordId = tinyRecord.Id, K = 3 }, cancellationToken);
            byTiny = await NearestAsync(first, new FindNearestRequest { SetId = setId, Embedding = Vector(Enumerable.Repeat(tiny, Dimension)), K = 3 }, cancellationToken);
            byLone = await NearestAsync(first, new FindNearestRequest { SetId = setId, Embedding = Vector([0, 0, tiny, 0, 0, 0, 0, 0]), K = 1 }, cancellationToken);
            fromAfter = await NearestAsync(first, new FindNearestRequest { SetId = setId, RecordId = after[3].Id, K = 1 }, cancellationToken);
        }

        FindNearestResponse restartedFromOlder, restartedFromTiny;
        await using (var second = await RunningServer.StartAsync(Configure, directory.Path))
        {
            restartedFromOlder = await NearestAsync(second, new FindNearestRequest { SetId = setId, RecordId = before[0].Id, K = 5 }, cancellationToken);
            restartedFromTiny = await NearestAsync(second, new FindNearestRequest { SetId = setId, RecordId = tinyRecord.Id, K = 2 }, cancellationToken);
        }

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(acks.Select(a => a.Error), Has.All.Null);
            Assert.That(acks.Sum(a => a.Accepted), Is.EqualTo(stored));
            Assert.That(indexedBeforeRestart, Is.EqualTo(stored), "the index took in every stored record");
            Assert.That(fromTiny.IndexBehind, Is.False);
            Assert.That(Ids(fromTiny).Take(2), Is.EquivalentTo(new[] { tinyRecord.Id, sameDirection.Id }), "the record and the one of its direction");
            Assert.That(fromTiny.Neighbors.Take(2).Select(n => n.Distance), Has.All.EqualTo(0f).Within(1e-5f));
            Assert.That(Ids(byTiny).Take(2), Is.EquivalentTo(new[] { tinyRecord.Id, sameDirection.Id }));
            Assert.That(Ids(byLone), Is.EqualTo(new[] { loneTiny.Id }));
            Assert.That(byLone.Neighbors[0].Distance, Is.EqualTo(0f).Within(1e-5f));
            Assert.That(Ids(fromAfter), Is.EqualTo(new[] { after[3].Id }), "a record logged after the tiny ones is indexed");
            Assert.That(fromAfter.IndexBehind, Is.False);
            Assert.That(Ids(restartedFromOlder).First(), Is.EqualTo(before[0].Id));
            Assert.That(restartedFromOlder.Neighbors, Has.Count.EqualTo(5));
            Assert.That(Ids(restartedFromTiny), Is.EquivalentTo(new[] { tinyRecord.Id, sameDirection.Id }));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Log_CosineSetAllZeroRecord_IsRefusedWithInvalidArgumentNamingIt(CancellationToken cancellationToken)
    {
        // Arrange: zeros of both signs; a query of zeros is refused too.
        await using var server = await RunningServer.StartAsync();
        var set = CosineSet();
        var batch = Records.Batch(set, Records.Make([1, 0, 0, 0, 0, 0, 0, 0], "production"), Records.Make([0, -0f, 0, 0, 0, 0, -0f, 0], "production"));

        // Act
        var ack = (await server.LogAsync(batch)).Single();
        await server.LogAsync(Records.Batch(set, Records.Make([1, 0, 0, 0, 0, 0, 0, 0], "production")));
        var query = Assert.ThrowsAsync<RpcException>(async () => await server.Query.FindNearestAsync(
            new FindNearestRequest { SetId = Records.SetId(set), Embedding = Vector(new float[Dimension]), K = 1 },
            deadline: DateTime.UtcNow + Timeout, cancellationToken: cancellationToken));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ack.Accepted, Is.Zero);
            Assert.That(ack.Error?.Code, Is.EqualTo((int)StatusCode.InvalidArgument));
            Assert.That(ack.Error?.RecordIndex, Is.EqualTo(1));
            Assert.That(ack.Error?.Message, Does.StartWith("records[1].embedding: is all zeros, which has no direction under the cosine metric"));
            Assert.That(query?.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
            Assert.That(query?.Status.Detail, Does.StartWith("embedding.values: is all zeros"));
        });
    }

    [Test, CancelAfter(120_000)]
    public async Task FindNearest_StoredRecordNoIndexCanTake_IsLeftOutOfTheIndexByIdAndTheRestIsSearched(CancellationToken cancellationToken)
    {
        // Arrange: a SQLite file with a NaN embedding in a cosine set (the store does not check values; the gRPC layer
        // does): an index that cannot take a record must skip it, not stop the set's index or its queries.
        using var directory = new TempDirectory();
        var set = CosineSet();
        var setId = Records.SetId(set);
        var random = new Random(3);
        var ordinary = Enumerable.Range(0, 20).Select(_ => Records.Make(RandomVector(random), "production")).ToArray();
        var broken = Records.Make([1, float.NaN, 0, 0, 0, 0, 0, 0], "production");
        WriteDirectly(directory.Path, set, [.. ordinary[..10], broken, .. ordinary[10..]]);

        // Act
        await using var server = await LoggedServer.StartAsync(o => { o.DataDirectory = directory.Path; o.Indexing.ExactSearchThreshold = 8; }, LogLevel.Information);
        var query = new Query.QueryClient(server.Invoker);
        var nearest = await query.FindNearestAsync(
            new FindNearestRequest { SetId = setId, K = 30, Embedding = Vector(ordinary[15].Embedding) },
            deadline: DateTime.UtcNow + Timeout, cancellationToken: cancellationToken);
        var indexed = (await query.ListSetsAsync(new ListSetsRequest(), deadline: DateTime.UtcNow + Timeout, cancellationToken: cancellationToken))
            .Sets.Single(s => s.SetId == setId).Index.IndexedCount;
        var fromBroken = Assert.ThrowsAsync<RpcException>(async () => await query.FindNearestAsync(
            new FindNearestRequest { SetId = setId, K = 5, RecordId = broken.Id }, deadline: DateTime.UtcNow + Timeout, cancellationToken: cancellationToken));

        // Assert
        var skipped = server.Logs.Entries.Where(e => e.Event.Id == 418).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(nearest.IndexBehind, Is.False);
            Assert.That(Ids(nearest), Is.EquivalentTo(ordinary.Select(r => r.Id)), "every other record, the broken one left out");
            Assert.That(nearest.Neighbors[0].Record.Record.Id, Is.EqualTo(ordinary[15].Id));
            Assert.That(indexed, Is.EqualTo(20));
            Assert.That(skipped, Has.Count.EqualTo(1), string.Join(" | ", server.Logs.AllText().Where(t => t.Contains("index", StringComparison.OrdinalIgnoreCase))));
            Assert.That(skipped.FirstOrDefault()?.Message, Does.Contain(broken.Id.ToLowerInvariant()).And.Contain("NaN"));
            Assert.That(server.Logs.Entries.Where(e => e.Event.Id == 409), Is.Empty, "no failed load");
            Assert.That(fromBroken?.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition), fromBroken?.Status.Detail);
        });
    }

    private static EmbeddingSetDescriptor CosineSet()
    {
        var set = Records.Set(Dimension, model: "tiny");
        set.Metric = DistanceMetric.Cosine;
        return set;
    }

    private static float[] RandomVector(Random random) =>
        [.. Enumerable.Range(0, Dimension).Select(_ => (float)(random.NextDouble() * 2 - 1))];

    private static Vector Vector(IEnumerable<float> values)
    {
        var vector = new Vector();
        vector.Values.AddRange(values);
        return vector;
    }

    private static IEnumerable<string> Ids(FindNearestResponse response) => response.Neighbors.Select(n => n.Record.Record.Id);

    private static async Task<FindNearestResponse> NearestAsync(RunningServer server, FindNearestRequest request, CancellationToken cancellationToken) =>
        await server.Query.FindNearestAsync(request, deadline: DateTime.UtcNow + Timeout, cancellationToken: cancellationToken);

    /// <summary>
    /// Waits (bounded) until the set's index holds <paramref name="count"/> records; returns what it last held (0 while
    /// the server has not loaded the index: ListSets leaves <c>index</c> out then).
    /// </summary>
    private static async Task<long> WaitIndexedAsync(RunningServer server, string setId, long count, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Timeout;
        long indexed;
        do
        {
            var sets = await server.Query.ListSetsAsync(new ListSetsRequest(), deadline: DateTime.UtcNow + Timeout, cancellationToken: cancellationToken);
            indexed = sets.Sets.Single(s => s.SetId == setId).Index?.IndexedCount ?? 0;
            if (indexed >= count)
            {
                return indexed;
            }

            await Task.Delay(100, cancellationToken);
        }
        while (DateTime.UtcNow < deadline);
        return indexed;
    }

    private static void WriteDirectly(string dataDirectory, EmbeddingSetDescriptor set, Record[] records)
    {
        using var storage = SqliteStorage.Open(dataDirectory, TimeProvider.System, new RecordChangeObservers(() => []));
        var prepared = records.Select(r => PreparedRecord.From(r, r.Id.ToLowerInvariant())).ToArray();
        var outcome = storage.Records.IngestAsync(Records.SetId(set), set, prepared).WaitAsync(Timeout).GetAwaiter().GetResult();
        Assert.That(outcome.Error, Is.Null);
        Assert.That(outcome.Accepted, Is.EqualTo(records.Length));
    }
}
