using Chroma.Protocol.V1;
using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Background;
using Chroma.Server.Storage;
using Chroma.Server.Tests.Reliability;
using Chroma.Server.Tests.Storage;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

/// <summary>
/// The scoring replica records each chunk of a long pass that it publishes, as it records a finished pass, so the other
/// replicas read it and serve what it serves. Before (probe W, W1), they served their last read until the pass ended:
/// 202,000 records for 24 minutes of a pass over 850,000 while the scoring replica served a growing ranking, and a page
/// token from one was refused by the other.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class ChunksAcrossReplicasTests : PostgresDatabaseTest
{
    private const int Chunk = 10;
    private static readonly EmbeddingSetDescriptor Set = Records.Set(dimension: 4, model: "chunks-across");
    private static readonly string SetId = Records.SetId(Set);

    [Test, CancelAfter(180_000)]
    public async Task LongPass_EachChunkIsRecordedForTheOtherReplicas_WhichServeTheSameRankingAfter(CancellationToken cancellationToken)
    {
        // Arrange: passes of 10 records a chunk; A scores the set (passes run when a request waits).
        await using var a = await StartReplicaAsync();
        await using var b = await StartReplicaAsync();
        var (queryA, queryB) = (new Query.QueryClient(a.Invoker), new Query.QueryClient(b.Invoker));
        await ScoringFailureReportingTests.SeedAsync(a, Set);
        await ScoringFailureReportingTests.WaitAsync(queryA, SetId);
        await ScoringFailureReportingTests.WaitAsync(queryB, SetId);
        var before = await RevisionAsync(cancellationToken);

        // Act: 45 records, one pass of five chunks (10, 10, 10, 10, 5).
        var random = new Random(7);
        var production = Enumerable.Range(0, 45).Select(_ => Records.Make([(float)(random.NextDouble() * 10 - 5), (float)random.NextDouble(), 1, 0], "production")).ToArray();
        await PostgresReplicaServers.LogAsync(a, Records.Batch(Set, production), cancellationToken);
        var fromA = await ScoringFailureReportingTests.WaitAsync(queryA, SetId);
        var fromB = await ScoringFailureReportingTests.WaitAsync(queryB, SetId);
        var after = await RevisionAsync(cancellationToken);

        // Assert: four chunks recorded before the pass's end, then the pass.
        Assert.Multiple(() =>
        {
            Assert.That(after - before, Is.EqualTo(5), "one revision per chunk published before the last, and one for the pass");
            Assert.That(fromB.ScoredRecords, Is.EqualTo(fromA.ScoredRecords));
            Assert.That(fromB.Recommendations.Select(r => r.Record.Record.Id), Is.EqualTo(fromA.Recommendations.Select(r => r.Record.Record.Id)));
        });
    }

    private async Task<long> RevisionAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT scores_revision FROM scoring_leases;", connection);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private Task<LoggedServer> StartReplicaAsync() => PostgresReplicaServers.StartAsync(
        Database.ConnectionString,
        scoring =>
        {
            scoring.Debounce = TimeSpan.FromMinutes(5);
            scoring.MaxDelay = TimeSpan.FromMinutes(10);
            scoring.ChangePollInterval = TimeSpan.FromMilliseconds(200);
        },
        minimumLevel: LogLevel.Warning,
        replaceServices: services => services.AddSingleton(sp => new SetScoringPass(
            sp.GetRequiredService<IRecordScoreStore>(),
            sp.GetRequiredService<BackgroundWorkLimiter>(),
            sp.GetRequiredService<NeighborSearchFactory>(),
            sp.GetRequiredService<RecommendationOptions>(),
            sp.GetRequiredService<DriftOptions>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<SetScoringPass>>())
        {
            ChunkRecords = Chunk,
        }));
}
