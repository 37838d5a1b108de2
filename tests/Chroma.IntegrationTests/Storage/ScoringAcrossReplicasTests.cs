using Chroma.IntegrationTests.Failover;
using Chroma;
using Chroma.IntegrationTests.Reliability;
using Chroma.Server.Hosting;
using Chroma.Server.Recommendations;
using Chroma.Server.Storage;
using Chroma.Testing.Postgres;
using Npgsql;

namespace Chroma.IntegrationTests.Storage;

/// <summary>
/// Three replicas on one PostgreSQL: the scoring replica (a separate process) is SIGKILLed in the middle of a pass,
/// another replica takes the set's lease over after it expires, completes the scoring, and every replica serves the
/// same ranking.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class ScoringAcrossReplicasTests
{
    private const int Dimension = 16;
    private const int Production = 30_000;
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(3);

    [Test, CancelAfter(540_000)]
    public async Task Scoring_HolderKilledMidPass_AnotherReplicaCompletesAndEveryReplicaServesTheSameRanking(CancellationToken cancellationToken)
    {
        // Arrange: replica A (its own process) ingests and scores.
        var connectionString = await CreateDatabaseAsync(cancellationToken);
        ChromaServer? b = null;
        ChromaServer? c = null;
        var a = new ServerProcess(Path.Combine(Path.GetTempPath(), "chroma-it-" + Guid.NewGuid().ToString("N")), ServerProcess.FreePort(), deleteDataOnDispose: true, new Dictionary<string, string>
        {
            ["Chroma__Storage__Provider"] = "Postgres",
            ["Chroma__Storage__ConnectionString"] = connectionString,
            ["Chroma__Scoring__LeaseDuration"] = LeaseDuration.ToString(),
            ["Chroma__Scoring__ChangePollInterval"] = "00:00:00.2",
            ["Chroma__Scoring__Debounce"] = "00:00:00.1",
            ["Chroma__Web__Enabled"] = "false",
        });
        try
        {
            await a.StartAsync(cancellationToken);
            var setId = await IngestAsync(a.Endpoint, training: 300, production: Production, seed: 1, cancellationToken);
            var holderA = await WaitForAsync(() => Lease(connectionString), l => l is not null, cancellationToken);

            // Act: kill A while a pass has stored part of its scores (after all were stored once, new training forces a refit).
            var killedMidPass = false;
            for (var attempt = 0; attempt < 6 && !killedMidPass; attempt++)
            {
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
                while (DateTime.UtcNow < deadline)
                {
                    var (count, versions) = Scores(connectionString);
                    if ((count > 0 && count < Production) || versions > 1)
                    {
                        await a.KillAsync();
                        killedMidPass = true;
                        break;
                    }

                    if (count == Production && versions == 1)
                    {
                        break;
                    }

                    await Task.Delay(10, cancellationToken);
                }

                if (!killedMidPass)
                {
                    await IngestAsync(a.Endpoint, training: 30, production: 0, seed: 10 + attempt, cancellationToken);
                }
            }

            Assert.That(killedMidPass, Is.True, "the scoring replica was killed while a pass had stored only part of its scores");
            var atKill = Lease(connectionString)!.Value;
            b = await StartReplicaAsync(connectionString);
            c = await StartReplicaAsync(connectionString);

            // Another replica takes over after the lease expires and completes the scoring.
            var taken = await WaitForAsync(
                () => (Lease: Lease(connectionString), Scores: Scores(connectionString)),
                s => s.Lease is { } l && l.Generation > atKill.Generation && s.Scores.Count == Production && s.Scores.Versions == 1 && l.Covered >= l.LastSequence,
                cancellationToken);
            var pages = new List<RecommendationPage>();
            foreach (var replica in new[] { b, c })
            {
                await using var client = new ChromaClient(new ChromaClientOptions { Endpoint = replica.Endpoint });
                await client.WaitForRecommendationsAsync(setId, TimeSpan.FromMinutes(2), cancellationToken: cancellationToken);
                pages.Add(await client.GetRecommendationsAsync(setId, new RecommendationQuery { PageSize = 100 }, cancellationToken));
            }

            // Assert
            Assert.Multiple(() =>
            {
                Assert.That(holderA!.Value.Holder, Is.Not.EqualTo(taken.Lease!.Value.Holder), "another replica holds the lease");
                Assert.That(pages.Select(p => p.ScoredRecords), Is.All.EqualTo(Production), "every production record scored");
                Assert.That(pages.Select(p => p.Stale), Is.All.False);
                Assert.That(pages[0].Items, Has.Count.EqualTo(100));
                Assert.That(pages[1].Items.Select(i => i.Record.Id), Is.EqualTo(pages[0].Items.Select(i => i.Record.Id)), "the same ranking from both replicas");
                Assert.That(pages[1].Items.Select(i => i.Score), Is.EqualTo(pages[0].Items.Select(i => i.Score)), "the same scores from both replicas");
            });
        }
        finally
        {
            await a.DisposeAsync();
            if (b is not null)
            {
                await b.DisposeAsync();
            }

            if (c is not null)
            {
                await c.DisposeAsync();
            }

            TestPostgres.DropDatabase(connectionString);
        }
    }

    [Test, CancelAfter(300_000)]
    public async Task Scoring_RecordsWrittenAndDeletedThroughTheOtherReplica_HolderScoresAndBothServeTheSameRanking(CancellationToken cancellationToken)
    {
        // Arrange: replica B holds the set's lease (it stored the training data); C does not.
        var connectionString = await CreateDatabaseAsync(cancellationToken);
        var b = await StartReplicaAsync(connectionString);
        var c = await StartReplicaAsync(connectionString);
        try
        {
            var setId = await IngestAsync(b.Endpoint, training: 300, production: 0, seed: 1, cancellationToken);
            var holder = await WaitForAsync(() => Lease(connectionString), l => l is not null, cancellationToken);
            await using var viaC = new ChromaClient(new ChromaClientOptions { Endpoint = c.Endpoint });
            await using var viaB = new ChromaClient(new ChromaClientOptions { Endpoint = b.Endpoint });

            // Act: production through C, scored by B; then the top 5 deleted through C.
            await IngestAsync(c.Endpoint, training: 0, production: 2_000, seed: 2, cancellationToken);
            var fromC = await viaC.WaitForRecommendationsAsync(setId, TimeSpan.FromMinutes(2), new RecommendationQuery { PageSize = 50 }, cancellationToken);
            var fromB = await viaB.WaitForRecommendationsAsync(setId, TimeSpan.FromMinutes(2), new RecommendationQuery { PageSize = 50 }, cancellationToken);
            var deleted = fromC.Items.Take(5).Select(i => i.Record.Id).ToList();
            await viaC.DeleteAsync(setId, deleted, cancellationToken);
            var afterC = await WaitForAsync(
                () => viaC.GetRecommendationsAsync(setId, new RecommendationQuery { PageSize = 50 }, cancellationToken).GetAwaiter().GetResult(),
                p => p.ScoredRecords == 1_995,
                cancellationToken);
            var afterB = await WaitForAsync(
                () => viaB.GetRecommendationsAsync(setId, new RecommendationQuery { PageSize = 50 }, cancellationToken).GetAwaiter().GetResult(),
                p => p.ScoredRecords == 1_995,
                cancellationToken);

            // Assert
            Assert.Multiple(() =>
            {
                Assert.That(Lease(connectionString)!.Value.Holder, Is.EqualTo(holder!.Value.Holder), "the holder kept the set");
                Assert.That(Lease(connectionString)!.Value.Generation, Is.EqualTo(1), "never taken over");
                Assert.That(fromB.ScoredRecords, Is.EqualTo(2_000), "the holder scored records written through the other replica");
                Assert.That(fromC.Items.Select(i => i.Record.Id), Is.EqualTo(fromB.Items.Select(i => i.Record.Id)), "the same ranking from both");
                Assert.That(fromC.Items.Select(i => i.Score), Is.EqualTo(fromB.Items.Select(i => i.Score)));
                Assert.That(afterB.Items.Select(i => i.Record.Id).Intersect(deleted), Is.Empty, "the delete through C reached the holder");
                Assert.That(afterC.Items.Select(i => i.Record.Id), Is.EqualTo(afterB.Items.Select(i => i.Record.Id)), "the same ranking after the delete");
            });
        }
        finally
        {
            await b.DisposeAsync();
            await c.DisposeAsync();
            TestPostgres.DropDatabase(connectionString);
        }
    }

    internal static Task<string> CreateDatabaseAsync(CancellationToken cancellationToken) =>
        ReplicaPostgres.CreateDatabaseOrIgnoreAsync(cancellationToken);

    private static Task<ChromaServer> StartReplicaAsync(string connectionString) =>
        PostgresReplica.StartAsync(connectionString, options =>
        {
            options.Scoring = new ScoringOptions { LeaseDuration = LeaseDuration, ChangePollInterval = TimeSpan.FromMilliseconds(200), Debounce = TimeSpan.FromMilliseconds(100) };
            options.Web.Enabled = false;
        });

    private static Task<string> IngestAsync(Uri endpoint, int training, int production, int seed, CancellationToken cancellationToken) =>
        ThreeClusterRecords.IngestAsync(endpoint, new EmbeddingSetDescriptor("lease-it", "1", "fc", Dimension), training, production, seed, cancellationToken);

    private static (string Holder, long Generation, long Covered, long LastSequence)? Lease(string connectionString)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new NpgsqlCommand(
            "SELECT l.holder, l.generation, l.covered_through, s.last_sequence FROM scoring_leases l JOIN embedding_sets s USING (set_key);", connection);
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)) : null;
    }

    private static (long Count, long Versions) Scores(string connectionString)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new NpgsqlCommand("SELECT COUNT(*), COUNT(DISTINCT training_version) FROM record_scores;", connection);
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private static async Task<T> WaitForAsync<T>(Func<T> read, Func<T, bool> done, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (true)
        {
            var value = read();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"not reached within 3 minutes; last seen: {value}");
            }

            await Task.Delay(50, cancellationToken);
        }
    }
}
