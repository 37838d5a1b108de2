using Chroma;
using Chroma.Server.Hosting;
using Chroma.Server.Recommendations;
using Chroma.Server.Storage;
using Chroma.Testing.Postgres;
using Npgsql;

namespace Chroma.IntegrationTests.Storage;

/// <summary>
/// Two in-process replicas on a new database, for the tests of waiting GetRecommendations across replicas: A started
/// first, stores the set and scores it; B starts after A's ranking is stored. Both poll the database every 20 s only,
/// and a lease lasts a minute (it is never taken over here), so a replica that waited only for what its own poll saw
/// would answer from a ranking that lacks what went through the other one.
/// </summary>
internal sealed class TwoWaitingReplicas : IAsyncDisposable
{
    private const int Dimension = 16;
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(20);
    private readonly string _connectionString;
    private readonly List<IAsyncDisposable> _owned = [];

    private TwoWaitingReplicas(string connectionString, string model)
    {
        _connectionString = connectionString;
        Descriptor = new EmbeddingSetDescriptor(model, "1", "fc", Dimension);
    }

    /// <summary>Every score of the set, waiting for everything acknowledged before the call (30 s at most).</summary>
    public static RecommendationQuery Waiting { get; } = new() { AllScores = true, PageSize = 1_000, WaitForAcknowledged = true, WaitTimeout = TimeSpan.FromSeconds(30) };

    public EmbeddingSetDescriptor Descriptor { get; }

    public ChromaClient ClientA { get; private set; } = null!;

    public ChromaClient ClientB { get; private set; } = null!;

    public Uri EndpointA { get; private set; } = null!;

    public Uri EndpointB { get; private set; } = null!;

    public string SetId { get; private set; } = null!;

    public string? HolderAtStart { get; private set; }

    public static async Task<TwoWaitingReplicas> StartAsync(string model, int production, CancellationToken cancellationToken)
    {
        var cluster = new TwoWaitingReplicas(await ScoringAcrossReplicasTests.CreateDatabaseAsync(cancellationToken), model);
        try
        {
            var a = await cluster.StartReplicaAsync();
            cluster.EndpointA = a.Endpoint;
            cluster.ClientA = cluster.Own(new ChromaClient(new ChromaClientOptions { Endpoint = a.Endpoint }));
            cluster.SetId = await cluster.IngestAsync(a.Endpoint, training: 300, production, seed: 1, cancellationToken);
            var scored = await cluster.ClientA.GetRecommendationsAsync(cluster.SetId, Waiting, cancellationToken);
            Assert.That(scored.ScoredRecords, Is.EqualTo(production), "A scored the set");
            cluster.HolderAtStart = cluster.Holder();
            var b = await cluster.StartReplicaAsync();
            cluster.EndpointB = b.Endpoint;
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

    public long NewestRecord() => (long)Scalar("SELECT max(sequence) FROM records;")!;

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
        Own(await PostgresReplica.StartAsync(_connectionString, options =>
        {
            options.Scoring = new ScoringOptions { LeaseDuration = PollInterval * 3, ChangePollInterval = PollInterval, Debounce = TimeSpan.FromMilliseconds(100) };
            options.Web.Enabled = false;
        }));

    private object? Scalar(string sql)
    {
        using var connection = new NpgsqlConnection(_connectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        return command.ExecuteScalar();
    }

    /// <summary>Stores <paramref name="count"/> more production records through the replica at <paramref name="endpoint"/>.</summary>
    public Task AddProductionAsync(Uri endpoint, int count, int seed, CancellationToken cancellationToken) =>
        IngestAsync(endpoint, training: 0, count, seed, cancellationToken);

    private Task<string> IngestAsync(Uri endpoint, int training, int production, int seed, CancellationToken cancellationToken) =>
        ThreeClusterRecords.IngestAsync(endpoint, Descriptor, training, production, seed, cancellationToken);
}
