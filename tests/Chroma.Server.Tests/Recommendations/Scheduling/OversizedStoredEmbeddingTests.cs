using Chroma.Protocol.V1;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Sqlite;
using Chroma.Server.Tests.Reliability;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

/// <summary>
/// A database written by a server that still accepted embedding values of 2^50 or more (they overflow squared distances
/// to infinity): such stored records must not stop the set's scoring pass, its ranking or FindNearest.
/// </summary>
public sealed class OversizedStoredEmbeddingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly EmbeddingSetDescriptor Set = Records.Set(dimension: 4);
    private static readonly string SetId = Records.SetId(Set);

    [TestCase("production")]
    [TestCase("training")]
    [CancelAfter(120_000)]
    public async Task GetRecommendations_StoredRecordWithAnOverflowingValue_RestOfTheSetIsScoredAndTheRecordCountedOnce(string dataset, CancellationToken cancellationToken)
    {
        // Arrange: the SQLite file an older server wrote, with one record of value 3e38 among ordinary ones (written
        // through the store, which never validated values: the gRPC layer does).
        using var directory = new TempDirectory();
        var training = Enumerable.Range(0, 20).Select(i => Records.Make([i % 2 == 0 ? 5 : -5, i * 0.1f, 0, 0], "training", i % 2 == 0 ? "a" : "b")).ToArray();
        var production = Enumerable.Range(0, 6).Select(i => Records.Make([i - 3, i, 1, 0], "production")).ToArray();
        var oversized = Records.Make([3e38f, 1, 0, 0], dataset, dataset == "training" ? "a" : null);
        WriteDirectly(directory.Path, [.. training, .. production, oversized]);

        // Act
        await using var server = await LoggedServer.StartAsync(o => o.DataDirectory = directory.Path, LogLevel.Information);
        var query = new Query.QueryClient(server.Invoker);
        var ranking = await query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = SetId, PageSize = 100, AllScores = true, WaitThroughSequence = 27, WaitTimeoutMs = 30_000 },
            deadline: DateTime.UtcNow + Timeout, cancellationToken: cancellationToken);
        var nearest = await query.FindNearestAsync(
            new FindNearestRequest { SetId = SetId, K = 30, Embedding = new Vector { Values = { 0, 1, 1, 0 } } },
            deadline: DateTime.UtcNow + Timeout, cancellationToken: cancellationToken);
        RpcException? fromOversized = null;
        try
        {
            await query.FindNearestAsync(new FindNearestRequest { SetId = SetId, K = 5, RecordId = oversized.Id }, deadline: DateTime.UtcNow + Timeout, cancellationToken: cancellationToken);
        }
        catch (RpcException ex)
        {
            fromOversized = ex;
        }


        // Assert
        var skipped = server.Logs.Entries.Where(e => e.Event.Id == 331).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(ranking.CoversRequest, Is.True, "the pass completed");
            Assert.That(ranking.Recommendations.Select(r => r.Record.Record.Id), Is.EquivalentTo(production.Select(r => r.Id)), "every ordinary production record ranked, the oversized one left out");
            Assert.That(ranking.Recommendations.Select(r => r.Score), Has.All.Matches<double>(double.IsFinite));
            Assert.That(ranking.PendingRecords, Is.EqualTo(dataset == "production" ? 1 : 0), "as records.proto says: the left-out record stays pending");
            Assert.That(skipped, Has.Count.EqualTo(1), "logged once: " + string.Join(" | ", server.Logs.AllText().Where(t => t.Contains("Scor", StringComparison.Ordinal))));
            Assert.That(skipped.FirstOrDefault()?.Message, Does.Contain("left out 1 record").And.Contain("2^50"));
            Assert.That(nearest.Neighbors.Select(n => n.Distance), Has.All.Matches<float>(float.IsFinite), "no infinite distances");
            Assert.That(nearest.Neighbors.Select(n => n.Record.Record.Id), Has.No.Member(oversized.Id));
            Assert.That(nearest.Neighbors, Has.Count.EqualTo(26));
            Assert.That(fromOversized?.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
            Assert.That(fromOversized?.Status.Detail, Does.Contain(oversized.Id.ToLowerInvariant()).And.Contain("2^50"));
        });
    }

    private static void WriteDirectly(string dataDirectory, Record[] records)
    {
        using var storage = SqliteStorage.Open(dataDirectory, TimeProvider.System, new RecordChangeObservers(() => []));
        var prepared = records.Select(r => PreparedRecord.From(r, r.Id.ToLowerInvariant())).ToArray();
        var outcome = storage.Records.IngestAsync(SetId, Set, prepared).WaitAsync(Timeout).GetAwaiter().GetResult();
        Assert.That(outcome.Error, Is.Null);
        Assert.That(outcome.Accepted, Is.EqualTo(records.Length));
    }
}
