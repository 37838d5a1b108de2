using Chroma.Protocol.V1;
using Chroma.Server.Tests.Reliability;
using Chroma.Server.Tests.Storage;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

/// <summary>
/// A set that cannot be ranked for want of training records, asked of the replica that does not score it: it answers
/// FailedPrecondition naming the problem, as the scoring replica does. Before (outside-in probe H, H6), it answered OK
/// with an empty page that claimed to cover every record, and after every training record was deleted it went on
/// serving the old ranking; the problem was known only to the replica whose pass found it.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class TrainingProblemAcrossReplicasTests : PostgresDatabaseTest
{
    private static readonly EmbeddingSetDescriptor Set = Records.Set(dimension: 4, model: "untrained");
    private static readonly string SetId = Records.SetId(Set);

    [Test, CancelAfter(180_000)]
    public async Task GetRecommendations_NoTrainingRecordsThenAllDeleted_BothReplicasAnswerFailedPreconditionNamingIt(CancellationToken cancellationToken)
    {
        // Arrange: production only, through A; A's waiting request runs the pass that finds no training data.
        await using var a = await StartReplicaAsync();
        await using var b = await StartReplicaAsync();
        var (queryA, queryB) = (new Query.QueryClient(a.Invoker), new Query.QueryClient(b.Invoker));
        var production = Enumerable.Range(0, 30).Select(i => Records.Make([i, 1, 0, 0], "production")).ToArray();
        await PostgresReplicaServers.LogAsync(a, Records.Batch(Set, production), cancellationToken);

        // Act
        var untrainedA = Assert.ThrowsAsync<RpcException>(() => WaitAsync(queryA, cancellationToken));
        var untrainedB = Assert.ThrowsAsync<RpcException>(() => WaitAsync(queryB, cancellationToken));

        // Training arrives, both serve a ranking; then every training record is deleted through A.
        var training = Enumerable.Range(0, 20).Select(i => Records.Make([i % 2 == 0 ? 5 : -5, i * 0.1f, 1, 0], "training", i % 2 == 0 ? "a" : "b")).ToArray();
        await PostgresReplicaServers.LogAsync(b, Records.Batch(Set, training), cancellationToken);
        var trainedA = await WaitAsync(queryA, cancellationToken);
        var trainedB = await WaitAsync(queryB, cancellationToken);
        await queryA.DeleteRecordsAsync(new DeleteRecordsRequest { SetId = SetId, Ids = { training.Select(r => r.Id) } }, cancellationToken: cancellationToken);
        var deletedA = Assert.ThrowsAsync<RpcException>(() => WaitAsync(queryA, cancellationToken));
        var deletedB = Assert.ThrowsAsync<RpcException>(() => WaitAsync(queryB, cancellationToken));

        // Assert
        Assert.Multiple(() =>
        {
            foreach (var (name, refused) in new[] { ("A untrained", untrainedA), ("B untrained", untrainedB), ("A deleted", deletedA), ("B deleted", deletedB) })
            {
                Assert.That(refused?.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition), name);
                Assert.That(refused?.Status.Detail, Does.Contain($"embedding set '{SetId}' has no training records"), name);
            }

            Assert.That((trainedA.ScoredRecords, trainedB.ScoredRecords), Is.EqualTo((30L, 30L)), "with training data both rank the set");
        });
    }

    private static Task<GetRecommendationsResponse> WaitAsync(Query.QueryClient query, CancellationToken cancellationToken) =>
        query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = SetId, WaitForAcknowledged = true, WaitTimeoutMs = 60_000 },
            deadline: DateTime.UtcNow.AddSeconds(90),
            cancellationToken: cancellationToken).ResponseAsync;

    private Task<LoggedServer> StartReplicaAsync() => PostgresReplicaServers.StartAsync(Database.ConnectionString);
}
