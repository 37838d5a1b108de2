using System.Globalization;
using Chroma;
using Chroma.Server.Hosting;
using Chroma.Server.Recommendations;
using Chroma.Server.Storage;
using Chroma.Testing.Postgres;
using Npgsql;

namespace Chroma.IntegrationTests.Storage;

/// <summary>
/// GetRecommendations with wait_for_acknowledged on two replicas sharing one PostgreSQL: the ranking the asked replica
/// serves has dropped every record deleted before the call, through either replica. The replicas read the shared
/// database on their own only every 20 s, so a replica that did not wait for the deletes would answer from the ranking
/// it read before them (scored_records and total_results still counting the deleted records).
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class WaitForDeletesAcrossReplicasTests
{
    private const int Dimension = 16;
    private const int Production = 600;
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(20);
    private static readonly RecommendationQuery Waiting = new() { AllScores = true, PageSize = 1_000, WaitForAcknowledged = true, WaitTimeout = TimeSpan.FromSeconds(30) };

    [Test, CancelAfter(240_000)]
    public async Task GetRecommendations_DeletedThroughTheScoringReplica_OtherReplicasWaitEndsWithTheRecordsDropped(CancellationToken cancellationToken)
    {
        // Arrange: A stores and scores the set (it holds the lease); B starts after and serves A's stored ranking.
        await using var cluster = await TwoReplicas.StartAsync(cancellationToken);
        var (viaA, viaB) = (cluster.ClientA, cluster.ClientB);
        var beforeB = await viaB.GetRecommendationsAsync(cluster.SetId, Waiting, cancellationToken);
        var deleted = beforeB.Items.Take(5).Select(i => i.Record.Id).ToList();

        // Act
        await viaA.DeleteAsync(cluster.SetId, deleted, cancellationToken);
        var afterB = await viaB.GetRecommendationsAsync(cluster.SetId, Waiting, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(cluster.Holder(), Is.EqualTo(cluster.HolderAtStart), "A kept the set's lease");
            Assert.That(beforeB.ScoredRecords, Is.EqualTo(Production), "B served the whole ranking before the delete");
            Assert.That(afterB.CoversRequest, Is.True);
            Assert.That(afterB.ScoredRecords, Is.EqualTo(Production - 5), "B's ranking no longer counts the records deleted through A");
            Assert.That(afterB.TotalResults, Is.EqualTo(Production - 5));
            Assert.That(afterB.Items.Select(i => i.Record.Id).Intersect(deleted), Is.Empty);
            Assert.That(afterB.Items.Select(i => i.ScoreRank), Is.EqualTo(Enumerable.Range(1, Production - 5)), "no gap left by a deleted entry");
        });
    }

    [Test, CancelAfter(240_000)]
    public async Task GetRecommendations_DeletedThroughTheOtherReplica_BothWaitsEndWithTheRecordsDropped(CancellationToken cancellationToken)
    {
        // Arrange
        await using var cluster = await TwoReplicas.StartAsync(cancellationToken);
        var (viaA, viaB) = (cluster.ClientA, cluster.ClientB);
        var beforeA = await viaA.GetRecommendationsAsync(cluster.SetId, Waiting, cancellationToken);
        var beforeB = await viaB.GetRecommendationsAsync(cluster.SetId, Waiting, cancellationToken);
        var deleted = beforeB.Items.Take(7).Select(i => i.Record.Id).ToList();

        // Act: deleted through B, which does not score the set; then asked of A (which scores it) and of B.
        await viaB.DeleteAsync(cluster.SetId, deleted, cancellationToken);
        var afterA = await viaA.GetRecommendationsAsync(cluster.SetId, Waiting, cancellationToken);
        var afterB = await viaB.GetRecommendationsAsync(cluster.SetId, Waiting, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(cluster.Holder(), Is.EqualTo(cluster.HolderAtStart), "A kept the set's lease");
            Assert.That((beforeA.ScoredRecords, beforeB.ScoredRecords), Is.EqualTo((Production, Production)));
            Assert.That((afterA.CoversRequest, afterB.CoversRequest), Is.EqualTo((true, true)));
            Assert.That(afterA.ScoredRecords, Is.EqualTo(Production - 7), "the scoring replica applied the delete made through B");
            Assert.That(afterB.ScoredRecords, Is.EqualTo(Production - 7), "B's ranking applied its own delete");
            Assert.That(afterA.TotalResults, Is.EqualTo(Production - 7));
            Assert.That(afterB.TotalResults, Is.EqualTo(Production - 7));
            Assert.That(afterA.Items.Select(i => i.Record.Id).Intersect(deleted), Is.Empty);
            Assert.That(afterB.Items.Select(i => i.Record.Id), Is.EqualTo(afterA.Items.Select(i => i.Record.Id)), "the same ranking from both");
            Assert.That(cluster.DeletesApplied(), Is.EqualTo(7), "the scoring replica published the deletes its stored ranking applied");
        });
    }

    // Two in-process replicas on a new database: A started first, stores the set and scores it; B starts after A's
    // ranking is stored. Both poll the database every 20 s only, and a lease lasts a minute (it is never taken over here).
    private sealed class TwoReplicas : IAsyncDisposable
    {
        private readonly string _connectionString;
        private readonly List<IAsyncDisposable> _owned = [];

        private TwoReplicas(string connectionString) => _connectionString = connectionString;

        public ChromaClient ClientA { get; private set; } = null!;

        public ChromaClient ClientB { get; private set; } = null!;

        public string SetId { get; private set; } = null!;

        public string? HolderAtStart { get; private set; }

        public static async Task<TwoReplicas> StartAsync(CancellationToken cancellationToken)
        {
            var cluster = new TwoReplicas(await ScoringAcrossReplicasTests.CreateDatabaseAsync(cancellationToken));
            try
            {
                var a = await cluster.StartReplicaAsync();
                cluster.ClientA = cluster.Own(new ChromaClient(new ChromaClientOptions { Endpoint = a.Endpoint }));
                cluster.SetId = await IngestAsync(a.Endpoint, training: 300, production: Production, cancellationToken);
                var scored = await cluster.ClientA.GetRecommendationsAsync(cluster.SetId, Waiting, cancellationToken);
                Assert.That(scored.ScoredRecords, Is.EqualTo(Production), "A scored the set");
                cluster.HolderAtStart = cluster.Holder();
                var b = await cluster.StartReplicaAsync();
                cluster.ClientB = cluster.Own(new ChromaClient(new ChromaClientOptions { Endpoint = b.Endpoint }));
                return cluster;
            }
            catch
            {
                await cluster.DisposeAsync();
                throw;
            }
        }

        public string? Holder() => Scalar("SELECT holder FROM scoring_leases;") as string;

        public long DeletesApplied() => (long)Scalar("SELECT deletes_applied FROM scoring_leases;")!;

        public async ValueTask DisposeAsync()
        {
            for (var i = _owned.Count - 1; i >= 0; i--)
            {
                await _owned[i].DisposeAsync();
            }

            TestPostgres.DropDatabase(_connectionString);
        }

        private T Own<T>(T owned)
            where T : IAsyncDisposable
        {
            _owned.Add(owned);
            return owned;
        }

        private async Task<ChromaServer> StartReplicaAsync() =>
            Own(await ChromaServer.StartAsync(new ChromaServerOptions
            {
                Host = "127.0.0.1",
                Port = 0,
                DataDirectory = Path.Combine(Path.GetTempPath(), "chroma-it-" + Guid.NewGuid().ToString("N")),
                Storage = new StorageOptions { Provider = StorageProvider.Postgres, ConnectionString = _connectionString },
                Scoring = new ScoringOptions { LeaseDuration = PollInterval * 3, ChangePollInterval = PollInterval, Debounce = TimeSpan.FromMilliseconds(100) },
                Web = { Enabled = false },
            }));

        private object? Scalar(string sql)
        {
            using var connection = new NpgsqlConnection(_connectionString);
            connection.Open();
            using var command = new NpgsqlCommand(sql, connection);
            return command.ExecuteScalar();
        }

        // Three clusters (class c around 5 e_c) for training; production around them, labelled and predicted.
        private static async Task<string> IngestAsync(Uri endpoint, int training, int production, CancellationToken cancellationToken)
        {
            await using var client = new ChromaClient(new ChromaClientOptions { Endpoint = endpoint, QueueCapacity = 10_000, MaxBatchSize = 2_000 });
            var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("wait-deletes-it", "1", "fc", Dimension));
            var random = new Random(1);
            var row = new float[Dimension];
            for (var i = 0; i < training + production; i++)
            {
                var cls = i % 3;
                for (var j = 0; j < Dimension; j++)
                {
                    row[j] = (float)((random.NextDouble() - 0.5) * (i < training ? 1.5 : 3)) + (j == cls ? 5 : 0);
                }

                var label = cls.ToString(CultureInfo.InvariantCulture);
                var queued = i < training ? set.LogTraining(row, label) : set.LogProduction(row, label, [0.8f, 0.1f, 0.1f]);
                Assert.That(queued, Is.True, "the client queue holds the batch");
            }

            await client.FlushAsync(cancellationToken);
            return set.Descriptor.Id;
        }
    }
}
