using System.Diagnostics;
using Chroma.Protocol.V1;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Postgres;
using Chroma.Server.Tests.Reliability;
using Chroma.Server.Tests.TestSupport;
using Chroma.Testing.Postgres;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Chroma.Server.Tests.Storage;

/// <summary>
/// A replica's log while its PostgreSQL is stopped for 8 s under FindNearest calls and readiness probes at 4 Hz: each
/// component says so once, without a stack trace, and once when the database is back, and the listener for other
/// replicas' changes listens again within <see cref="PostgresChangeListener.OutageRetryDelay"/> of the restart. Before
/// (probe Q, Q3): a warning with a stack trace per FindNearest saying the query "answers from what is indexed" while it
/// answered Unavailable, an Error per probe from the health check service, and a listener stack trace per attempt with
/// a backoff grown to 16 s.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class PostgresOutageLogTests
{
    private static readonly EmbeddingSetDescriptor Set = Records.Set(dimension: 4, model: "outage-log");

    [Test, CancelAfter(300_000)]
    public async Task Log_PostgresStoppedEightSecondsUnderQueriesAndProbes_OneWarningPerComponentWithoutStackTraceThenRecovery(CancellationToken cancellationToken)
    {
        // Arrange: a private cluster (this test stops it), one replica with a set it has indexed.
        using var cluster = PostgresCluster.TryCreate(out var reason);
        if (cluster is null)
        {
            TestPostgres.SkipOrFail(reason);
        }

        await using var server = await PostgresReplicaServers.StartAsync(cluster!.ConnectionString, minimumLevel: LogLevel.Information);
        await PostgresReplicaServers.LogAsync(server, Records.Batch(Set, Records.Sequence(20)), cancellationToken);
        var query = new Query.QueryClient(server.Invoker);
        var health = new Health.HealthClient(server.Channel);
        var nearest = new FindNearestRequest { SetId = Records.SetId(Set), K = 3, Embedding = new Vector { Values = { 1, 0, 0, 0 } } };
        await query.FindNearestAsync(nearest, cancellationToken: cancellationToken);
        var listener = server.Services.GetServices<IHostedService>().OfType<PostgresChangeListener>().Single();
        await WaitUntilAsync(() => listener.Connections > 0, TimeSpan.FromSeconds(30), cancellationToken);
        var connectionsBefore = listener.Connections;
        var before = server.Logs.Entries.Count;

        // Act: 8 s down, queried and probed every 250 ms.
        cluster.StopImmediate();
        var nearestAnswers = new List<StatusCode>();
        var readiness = new List<HealthCheckResponse.Types.ServingStatus>();
        var down = Stopwatch.StartNew();
        while (down.Elapsed < TimeSpan.FromSeconds(8))
        {
            nearestAnswers.Add(await CodeOfAsync(() => query.FindNearestAsync(nearest, deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: cancellationToken).ResponseAsync));
            readiness.Add((await health.CheckAsync(new HealthCheckRequest { Service = "chroma.v1.Query" }, cancellationToken: cancellationToken)).Status);
            await Task.Delay(250, cancellationToken);
        }

        cluster.Start();
        var back = Stopwatch.StartNew();
        await WaitUntilAsync(() => listener.Connections > connectionsBefore, TimeSpan.FromSeconds(30), cancellationToken);
        var listeningAgainAfter = back.Elapsed;
        await WaitUntilAsync(
            async () => (await health.CheckAsync(new HealthCheckRequest { Service = "chroma.v1.Query" }, cancellationToken: cancellationToken)).Status == HealthCheckResponse.Types.ServingStatus.Serving
                && await CodeOfAsync(() => query.FindNearestAsync(nearest, cancellationToken: cancellationToken).ResponseAsync) == StatusCode.OK,
            TimeSpan.FromSeconds(30),
            cancellationToken);

        // Assert
        var outage = server.Logs.Entries.Skip(before).ToArray();
        var problems = outage.Where(e => e.Level >= LogLevel.Warning).ToArray();
        var text = string.Join("\n", outage.Select(e => $"{e.Level} {e.Category}[{e.Event.Id}] {e.Message} {e.Exception?.GetType().Name}"));
        Assert.Multiple(() =>
        {
            Assert.That(nearestAnswers, Has.Count.GreaterThanOrEqualTo(10));
            Assert.That(nearestAnswers, Is.All.EqualTo(StatusCode.Unavailable));
            Assert.That(readiness, Is.All.EqualTo(HealthCheckResponse.Types.ServingStatus.NotServing));
            Assert.That(problems.Where(e => e.Exception is not null && StorageOutage.Is(e.Exception)), Is.Empty, "no stack trace for the outage\n" + text);
            Assert.That(outage.Where(e => e.Category.EndsWith("DefaultHealthCheckService", StringComparison.Ordinal)), Is.Empty, text);
            Assert.That(outage.Where(e => e.Category.EndsWith("EmbeddingSetIndexes", StringComparison.Ordinal) && e.Event.Id == 413), Is.Empty, text);
            Assert.That(problems.GroupBy(e => (e.Category, e.Event.Id)).Where(g => g.Count() > 1).Select(g => $"{g.Key} x{g.Count()}"), Is.Empty, "one warning per component and event\n" + text);
            Assert.That(Events<RecordStoreHealthCheck>(outage), Is.EqualTo(new[] { 20, 22 }), "readiness: down once, back once\n" + text);
            Assert.That(Events<PostgresChangeListener>(outage), Is.EqualTo(new[] { 20, 22 }), "the listener: down once, back once\n" + text);
            Assert.That(listeningAgainAfter, Is.LessThan(PostgresChangeListener.OutageRetryDelay + TimeSpan.FromSeconds(3)), "notices resume soon after the restart");
        });
    }

    private static int[] Events<T>(IEnumerable<CapturedLog> entries) =>
        [.. entries.Where(e => e.Category == typeof(T).FullName).Select(e => e.Event.Id)];

    private static async Task<StatusCode> CodeOfAsync(Func<Task> call)
    {
        try
        {
            await call();
            return StatusCode.OK;
        }
        catch (RpcException ex)
        {
            return ex.StatusCode;
        }
    }

    private static Task WaitUntilAsync(Func<bool> condition, TimeSpan limit, CancellationToken cancellationToken) =>
        WaitUntilAsync(() => Task.FromResult(condition()), limit, cancellationToken);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan limit, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > limit)
            {
                Assert.Fail($"not within {limit}");
            }

            await Task.Delay(50, cancellationToken);
        }
    }
}
