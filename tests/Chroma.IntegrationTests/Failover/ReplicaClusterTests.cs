using System.Diagnostics;
using System.Globalization;
using Chroma;
using Chroma.IntegrationTests.Ingest;
using Chroma.IntegrationTests.Reliability;
using Chroma.Server.Hosting;
using Chroma.Testing.Postgres;

namespace Chroma.IntegrationTests.Failover;

/// <summary>
/// One PostgreSQL, three <c>chroma-server</c> replicas as separate processes, four clients spread over them (each lists
/// all three, starting at a different one). While the clients stream 200,000 records, the replica most clients use is
/// SIGKILLed and restarted five times, and PostgreSQL itself is stopped (immediate) and started again. The store must
/// then hold every record exactly once, read with SQL.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class ReplicaClusterTests
{
    private const int ReplicaCount = 3;
    private const int ClientCount = 4;
    private const int PerClient = 50_000;
    private const int Dimension = 16;
    private const int Kills = 5;
    private const int Chunk = 2_500;

    // A restarted replica is a new dotnet process: on the shared 2-core CI machine its start alone can take tens of seconds.
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(180);

    [Test, CancelAfter(600_000)]
    public async Task Log_ReplicasKilledFiveTimesAndPostgresRestartedMidStream_EveryRecordStoredExactlyOnce(CancellationToken cancellationToken)
    {
        // Arrange
        var connectionString = await ReplicaPostgres.CreateDatabaseOrIgnoreAsync(cancellationToken);
        if (!TestPostgres.CanRestart)
        {
            Assert.Ignore($"restarting PostgreSQL mid-stream needs the test's own server ({TestPostgres.ServerVariable} names another)");
        }

        var settings = new Dictionary<string, string>
        {
            ["Chroma__Storage__Provider"] = "Postgres",
            ["Chroma__Storage__ConnectionString"] = connectionString,
            ["Chroma__Web__Enabled"] = "false",
        };
        var replicas = Enumerable.Range(0, ReplicaCount)
            .Select(_ => new ServerProcess(
                Path.Combine(Path.GetTempPath(), "chroma-replica-" + Guid.NewGuid().ToString("N")), ServerProcess.FreePort(), deleteDataOnDispose: true, settings))
            .ToArray();
        var clients = new List<ChromaClient>();
        var restarts = new Task?[ReplicaCount];
        try
        {
            await Task.WhenAll(replicas.Select(r => r.StartAsync(cancellationToken, StartTimeout)));
            for (var c = 0; c < ClientCount; c++)
            {
                clients.Add(FailoverClients.Create(PerClient, [.. Enumerable.Range(0, ReplicaCount).Select(r => replicas[(c + r) % ReplicaCount].Endpoint)]));
            }

            var descriptor = new EmbeddingSetDescriptor("it-replicas", "1", "fc", Dimension);
            var total = ClientCount * PerClient;
            var stopwatch = Stopwatch.StartNew();

            // Act: producers keep every stream busy (at most two chunks outstanding) until the last record, so every
            // fault below lands while batches are on the wire.
            var producers = clients.Select((client, c) => Task.Run(() => ProduceAsync(client, descriptor, c, cancellationToken), cancellationToken)).ToArray();
            var faults = new List<string>();
            for (var kill = 0; kill < Kills; kill++)
            {
                await FailoverClients.WaitUntilAsync(() => Exported(clients) >= (long)total * (kill + 1) / 10, cancellationToken);

                // The busiest replica that is running; a killed one restarts in the background (a dotnet start can take
                // long on a loaded machine), so the next kill may find only one other replica up.
                while (restarts.All(r => r is { IsCompleted: false }))
                {
                    await Task.WhenAny(restarts.Select(r => r!));
                }

                var victim = MostUsed(clients, replicas, restarts);
                if (restarts[victim] is { } finished)
                {
                    await finished;
                }

                var inFlight = Outstanding(clients);
                await replicas[victim].KillAsync();
                var line = $"SIGKILL replica {victim} at {Exported(clients):N0} acknowledged, {inFlight:N0} outstanding";
                restarts[victim] = RestartAsync(replicas[victim], line, faults, cancellationToken);
            }

            await FailoverClients.WaitUntilAsync(() => Exported(clients) >= (long)total * 7 / 10, cancellationToken);
            var outstandingAtRestart = Outstanding(clients);
            await Task.Run(() => TestPostgres.Restart(TimeSpan.FromSeconds(2)), cancellationToken);
            lock (faults)
            {
                faults.Add($"PostgreSQL stopped (immediate) for 2 s and started at {Exported(clients):N0} acknowledged, {outstandingAtRestart:N0} outstanding");
            }

            await Task.WhenAll(producers);
            await Task.WhenAll(restarts.Where(r => r is not null).Select(r => r!));
            foreach (var client in clients)
            {
                await client.FlushAsync(cancellationToken);
            }

            stopwatch.Stop();
            var stored = await ReplicaPostgres.ReadKeysAsync(connectionString, descriptor.Id, cancellationToken);
            var counted = await clients[0].CountAsync(descriptor.Id, cancellationToken: cancellationToken);

            // Assert
            foreach (var fault in faults)
            {
                await TestContext.Out.WriteLineAsync(fault);
            }

            await TestContext.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{total:N0} records x {Dimension}-d through {ReplicaCount} replicas in {stopwatch.Elapsed.TotalSeconds:F1} s = {total / stopwatch.Elapsed.TotalSeconds:N0} records/s; " +
                $"replica RSS {string.Join(", ", replicas.Select(r => r.ResidentMiB.ToString("F0", CultureInfo.InvariantCulture)))} MiB; load {File.ReadAllText("/proc/loadavg").Trim()}"));
            Assert.Multiple(() =>
            {
                for (var c = 0; c < ClientCount; c++)
                {
                    var stats = clients[c].Statistics;
                    Assert.That(stats.Exported, Is.EqualTo(PerClient), $"client {c} acknowledged");
                    Assert.That(stats.Failed + stats.Dropped, Is.Zero, $"client {c} failed or dropped");
                }

                Assert.That(faults, Has.Count.EqualTo(Kills + 1));
                Assert.That(counted, Is.EqualTo(total), "CountRecords through a replica");
            });
            StoredRecords.AssertExactlyOnce(stored, ClientCount, PerClient);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }

            // A restart still under way would start a process after the replicas are disposed: let it end first.
            await Task.WhenAll(restarts.Where(r => r is not null).Select(r => r!)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            foreach (var replica in replicas)
            {
                await replica.DisposeAsync();
            }

            TestPostgres.DropDatabase(connectionString);
        }
    }

    private static async Task ProduceAsync(ChromaClient client, EmbeddingSetDescriptor descriptor, int producer, CancellationToken cancellationToken)
    {
        var set = client.GetEmbeddingSet(descriptor);
        var vector = new float[Dimension];
        for (var start = 0; start < PerClient; start += Chunk)
        {
            await FailoverClients.WaitUntilAsync(() => client.Statistics.Received - client.Statistics.Exported < 2 * Chunk, cancellationToken);
            for (var i = start; i < start + Chunk; i++)
            {
                RecordCodec.Encode(vector, producer, i);
                if (!set.Log("replicas", vector))
                {
                    throw new InvalidOperationException($"client {producer} refused record {i}");
                }
            }
        }
    }

    private static async Task RestartAsync(ServerProcess replica, string line, List<string> faults, CancellationToken cancellationToken)
    {
        var down = Stopwatch.StartNew();
        await Task.Delay(300, cancellationToken);

        // The test restarts PostgreSQL while a killed replica may still be starting: a replica waits for the database at
        // start (Chroma:Storage:StartupTimeout, 30 s); one that still cannot reach it, or loses it after the store opened,
        // exits with code 5 ("cannot connect to PostgreSQL", "lost the connection to PostgreSQL while starting") and is
        // started again, as an orchestrator would.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await replica.StartAsync(cancellationToken, StartTimeout);
                break;
            }
            catch (ServerExitedException e) when (e.ExitCode == (int)ChromaServerStartFailure.Setting && attempt < 5)
            {
                line += $"; start {attempt} exited with code {e.ExitCode} (PostgreSQL restarting)";
                await replica.KillAsync();
                await Task.Delay(1_000, cancellationToken);
            }
        }

        line += $"; serving again after {down.Elapsed.TotalSeconds:F1} s";
        lock (faults)
        {
            faults.Add(line);
        }

        await TestContext.Progress.WriteLineAsync(line);
    }

    private static long Exported(List<ChromaClient> clients) => clients.Sum(c => c.Statistics.Exported);

    private static long Outstanding(List<ChromaClient> clients) => clients.Sum(c => c.Statistics.Received - c.Statistics.Exported);

    /// <summary>Of the running replicas, the one most clients send to now (the one whose death breaks the most streams).</summary>
    private static int MostUsed(List<ChromaClient> clients, ServerProcess[] replicas, Task?[] restarts) =>
        Enumerable.Range(0, replicas.Length)
            .Where(r => restarts[r] is null or { IsCompleted: true })
            .MaxBy(r => clients.Count(c => c.Endpoint == replicas[r].Endpoint));
}
