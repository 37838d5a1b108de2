extern alias client;

using System.Diagnostics;
using Chroma.Protocol.V1;
using Chroma.Server.Tests.Reliability;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using ChromaClient = client::Chroma.ChromaClient;
using ClientException = client::Chroma.ChromaException;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

/// <summary>
/// A set whose scoring pass fails, on a real server with its real scheduler: clients are told (ListSets,
/// GetRecommendations, a waiting request at once), and the next pass that succeeds clears it. The pass is made to fail
/// by the training-neighbour search its fit builds (<see cref="FailingNeighborSearch"/>), which throws for the broken set's
/// dimension while it is failing; the other set is fitted by the server's own.
/// </summary>
public class ScoringFailureReportingTests
{
    internal const string FailureMessage = "covariance matrix is not positive definite (injected)";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    internal static readonly EmbeddingSetDescriptor Broken = Records.Set(dimension: 4, model: "broken");
    private static readonly EmbeddingSetDescriptor Healthy = Records.Set(dimension: 3, model: "healthy");
    internal static readonly string BrokenId = Records.SetId(Broken);
    private static readonly string HealthyId = Records.SetId(Healthy);

    [Test, CancelAfter(90_000)]
    public async Task GetRecommendations_WaitingForAPassThatFails_AnswersAtOnceWithCoversRequestFalseAndTheFailure()
    {
        var fault = new FailingNeighborSearch(Broken.Dimension, FailureMessage);
        await using var server = await StartAsync(fault);
        var query = new Query.QueryClient(server.Invoker);
        await SeedAsync(server, Broken);
        var before = DateTimeOffset.UtcNow;

        // The wait may last two minutes; only the failed pass can end it within the test's time.
        var elapsed = Stopwatch.StartNew();
        var waited = await query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = BrokenId, WaitForAcknowledged = true, WaitTimeoutMs = 120_000 }, deadline: DateTime.UtcNow.AddMinutes(2), cancellationToken: TestContext.CurrentContext.CancellationToken);
        elapsed.Stop();

        Assert.Multiple(() =>
        {
            Assert.That(waited.CoversRequest, Is.False);
            Assert.That(elapsed.Elapsed, Is.LessThan(TimeSpan.FromSeconds(30)), "answered when the pass failed, not at the end of the wait");
            Assert.That(waited.ScoringFailure, Is.Not.Null);
            Assert.That(waited.ScoringFailure?.Message, Is.EqualTo(FailureMessage));
            Assert.That(waited.ScoringFailure?.ConsecutiveFailures, Is.EqualTo(1));
            Assert.That(waited.ScoringFailure?.FailedUnixMs, Is.InRange(before.ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
            Assert.That(waited.ScoredRecords, Is.Zero);
            Assert.That(server.Logs.Entries.Any(e => e.Level == LogLevel.Error && e.Message.Contains(BrokenId, StringComparison.Ordinal)), Is.True, "still logged (PassFailed)");
        });

        // Nothing changed since: a new wait has nothing to wait for, and says why at once.
        elapsed.Restart();
        var again = await query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = BrokenId, WaitForAcknowledged = true, WaitTimeoutMs = 120_000 }, deadline: DateTime.UtcNow.AddMinutes(2), cancellationToken: TestContext.CurrentContext.CancellationToken);
        Assert.That(again.CoversRequest, Is.False);
        Assert.That(again.ScoringFailure?.Message, Is.EqualTo(FailureMessage));
        Assert.That(again.ScoringFailure?.ConsecutiveFailures, Is.EqualTo(1), "no pass ran for it");
        Assert.That(elapsed.Elapsed, Is.LessThan(TimeSpan.FromSeconds(30)));
    }

    [Test, CancelAfter(90_000)]
    public async Task ListSetsAndClient_PassFailedForOneSet_ReportTheFailureOnThatSetOnly()
    {
        var fault = new FailingNeighborSearch(Broken.Dimension, FailureMessage);
        await using var server = await StartAsync(fault);
        var query = new Query.QueryClient(server.Invoker);
        await SeedAsync(server, Broken);
        await SeedAsync(server, Healthy);
        await WaitAsync(query, BrokenId);

        var healthy = await WaitAsync(query, HealthyId);
        var sets = (await query.ListSetsAsync(new ListSetsRequest(), deadline: DateTime.UtcNow + Timeout)).Sets.ToDictionary(s => s.SetId);
        await using var chroma = new ChromaClient(server.Channel);
        var page = await chroma.GetRecommendationsAsync(BrokenId).WaitAsync(Timeout);
        var infos = (await chroma.ListSetsAsync().WaitAsync(Timeout)).ToDictionary(s => s.SetId);
        var thrown = Assert.ThrowsAsync<ClientException>(() => chroma.WaitForRecommendationsAsync(BrokenId, TimeSpan.FromMinutes(2)).WaitAsync(Timeout));

        Assert.Multiple(() =>
        {
            Assert.That(healthy.CoversRequest, Is.True);
            Assert.That(healthy.ScoringFailure, Is.Null);
            Assert.That(healthy.Recommendations, Is.Not.Empty);
            Assert.That(sets[BrokenId].ScoringFailure?.Message, Is.EqualTo(FailureMessage));
            Assert.That(sets[BrokenId].ScoringFailure?.ConsecutiveFailures, Is.EqualTo(1));
            Assert.That(sets[HealthyId].ScoringFailure, Is.Null);
            Assert.That(page.LastScoringFailure?.Message, Is.EqualTo(FailureMessage));
            Assert.That(page.LastScoringFailure?.FailedAt.ToUnixTimeMilliseconds(), Is.EqualTo(sets[BrokenId].ScoringFailure?.FailedUnixMs));
            Assert.That(infos[BrokenId].LastScoringFailure?.ConsecutiveFailures, Is.EqualTo(1));
            Assert.That(infos[HealthyId].LastScoringFailure, Is.Null);
            Assert.That(thrown!.StatusCode, Is.EqualTo(StatusCode.Internal));
            Assert.That(thrown.Message, Does.Contain(FailureMessage).And.Contain(BrokenId));
        });
    }

    [Test, CancelAfter(120_000)]
    public async Task GetRecommendations_CauseRemovedAndARecordArrives_NextPassSucceedsAndClearsTheFailure()
    {
        var fault = new FailingNeighborSearch(Broken.Dimension, FailureMessage);
        await using var server = await StartAsync(fault);
        var query = new Query.QueryClient(server.Invoker);
        var production = await SeedAsync(server, Broken);
        var first = await WaitAsync(query, BrokenId);
        await LogAsync(server, Records.Batch(Broken, Records.Make([1, 1, 1, 0], "production")));
        var second = await WaitAsync(query, BrokenId);

        fault.Failing = false;
        await LogAsync(server, Records.Batch(Broken, Records.Make([2, 1, 1, 0], "production")));
        var fresh = await WaitAsync(query, BrokenId);
        var sets = (await query.ListSetsAsync(new ListSetsRequest(), deadline: DateTime.UtcNow + Timeout)).Sets.ToDictionary(s => s.SetId);

        Assert.Multiple(() =>
        {
            Assert.That(first.ScoringFailure?.ConsecutiveFailures, Is.EqualTo(1));
            Assert.That(second.CoversRequest, Is.False);
            Assert.That(second.ScoringFailure?.ConsecutiveFailures, Is.EqualTo(2), "the record started a pass, which failed too");
            Assert.That(second.ScoringFailure?.FailedUnixMs, Is.GreaterThanOrEqualTo(first.ScoringFailure?.FailedUnixMs ?? long.MaxValue));
            Assert.That(fresh.CoversRequest, Is.True);
            Assert.That(fresh.ScoringFailure, Is.Null);
            Assert.That(fresh.ScoredRecords, Is.EqualTo(production.Length + 2));
            Assert.That(sets[BrokenId].ScoringFailure, Is.Null);
        });
    }

    internal static Task<LoggedServer> StartAsync(FailingNeighborSearch fault) => LoggedServer.StartAsync(
        o =>
        {
            // Passes start only when a request waits: the test decides when each one runs.
            o.Scoring.Debounce = TimeSpan.FromMinutes(5);
            o.Scoring.MaxDelay = TimeSpan.FromMinutes(10);
        },
        LogLevel.Warning,
        services => fault.ReplaceIn(services));

    internal static async Task<GetRecommendationsResponse> WaitAsync(Query.QueryClient query, string setId) =>
        await query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = setId, PageSize = 100, WaitForAcknowledged = true, WaitTimeoutMs = 60_000 },
            deadline: DateTime.UtcNow.AddSeconds(70),
            cancellationToken: TestContext.CurrentContext.CancellationToken);

    internal static async Task<Record[]> SeedAsync(LoggedServer server, EmbeddingSetDescriptor set)
    {
        var dimension = set.Dimension;
        var training = Enumerable.Range(0, 20)
            .Select(i => Records.Make(Embedding(dimension, i % 2 == 0 ? 5 : -5, i * 0.1f), "training", i % 2 == 0 ? "a" : "b")).ToArray();
        var production = Enumerable.Range(0, 6).Select(i => Records.Make(Embedding(dimension, i - 3, i), "production")).ToArray();
        await LogAsync(server, Records.Batch(set, training), Records.Batch(set, production));
        return production;
    }

    private static float[] Embedding(int dimension, float first, float second)
    {
        var embedding = new float[dimension];
        embedding[0] = first;
        embedding[1] = second;
        embedding[2] = 1;
        return embedding;
    }

    private static async Task LogAsync(LoggedServer server, params LogBatch[] batches)
    {
        using var call = new Ingest.IngestClient(server.Invoker).Log(deadline: DateTime.UtcNow + Timeout);
        foreach (var batch in batches)
        {
            await call.RequestStream.WriteAsync(batch);
            Assert.That(await call.ResponseStream.MoveNext(CancellationToken.None), Is.True, "an ack for every batch");
            Assert.That(call.ResponseStream.Current.Error, Is.Null);
        }

        await call.RequestStream.CompleteAsync();
    }
}
