using Chroma.Protocol.V1;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;
using NUnit.Framework;

namespace Chroma.Server.Tests.Services;

/// <summary>GetRecommendations waiting for a ranking that covers what was acknowledged, on a real server.</summary>
public class FreshRecommendationsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly EmbeddingSetDescriptor Set = Records.Set(dimension: 4);
    private static readonly string SetId = Records.SetId(Set);

    // A debounce far longer than any test: only a waiting request makes the pass start now.
    private static Task<RunningServer> StartSlowScoringServerAsync() => RunningServer.StartAsync(o =>
    {
        o.Scoring.Debounce = TimeSpan.FromMinutes(5);
        o.Scoring.MaxDelay = TimeSpan.FromMinutes(10);
    });

    [Test]
    public async Task GetRecommendations_WaitForAcknowledged_CoversEveryRecordSentBeforeTheCall()
    {
        await using var server = await StartSlowScoringServerAsync();
        var production = await SeedAsync(server);
        var stale = await WaitingCallAsync(server, new GetRecommendationsRequest { SetId = SetId, PageSize = 100 }, allowFailedPrecondition: true);

        var fresh = await WaitingCallAsync(server, new GetRecommendationsRequest { SetId = SetId, PageSize = 100, AllScores = true, WaitForAcknowledged = true });

        Assert.That(stale?.ScoredRecords ?? 0, Is.Zero, "without a wait the debounced pass has not run");
        Assert.That(fresh!.CoversRequest, Is.True);
        Assert.That(fresh.ScoredRecords, Is.EqualTo(production.Length));
        Assert.That(fresh.PendingRecords, Is.Zero);
        Assert.That(fresh.CoveredThroughSequence, Is.GreaterThanOrEqualTo(fresh.LatestSequence));
        Assert.That(fresh.Recommendations.Select(r => r.Record.Record.Id), Is.EquivalentTo(production.Select(r => r.Id)));
    }

    [Test]
    public async Task GetRecommendations_MoreSentAfterAFreshRanking_NextWaitCoversTheNewRecordsToo()
    {
        await using var server = await StartSlowScoringServerAsync();
        var production = await SeedAsync(server);
        await WaitingCallAsync(server, new GetRecommendationsRequest { SetId = SetId, WaitForAcknowledged = true });
        var more = Enumerable.Range(0, 3).Select(i => Records.Make([10, i, 0, 0], "production")).ToArray();
        Assert.That((await server.LogAsync(Records.Batch(Set, more)))[0].Error, Is.Null);

        var fresh = await WaitingCallAsync(server, new GetRecommendationsRequest { SetId = SetId, PageSize = 100, AllScores = true, WaitForAcknowledged = true });

        Assert.That(fresh!.CoversRequest, Is.True);
        Assert.That(fresh.ScoredRecords, Is.EqualTo(production.Length + more.Length));
    }

    [Test]
    public async Task GetRecommendations_WaitThroughASequenceNeverStored_AnswersWithCoversRequestFalse()
    {
        await using var server = await StartSlowScoringServerAsync();
        await SeedAsync(server);

        var response = await WaitingCallAsync(server, new GetRecommendationsRequest { SetId = SetId, WaitThroughSequence = 1_000_000, WaitTimeoutMs = 300 });

        Assert.That(response!.CoversRequest, Is.False);
        Assert.That(response.CoveredThroughSequence, Is.LessThan(1_000_000));
    }

    [Test, CancelAfter(60_000)]
    public async Task GetRecommendations_WaitForAcknowledgedAfterADelete_RankingNoLongerCountsTheDeletedRecords()
    {
        await using var server = await StartSlowScoringServerAsync();
        var production = await SeedAsync(server);
        await WaitingCallAsync(server, new GetRecommendationsRequest { SetId = SetId, WaitForAcknowledged = true });
        var deleted = await server.Query.DeleteRecordsAsync(
            new DeleteRecordsRequest { SetId = SetId, Ids = { production[0].Id, production[1].Id } }, deadline: DateTime.UtcNow + Timeout);
        Assert.That(deleted.Deleted, Is.EqualTo(2));

        var fresh = await WaitingCallAsync(server, new GetRecommendationsRequest { SetId = SetId, PageSize = 100, AllScores = true, WaitForAcknowledged = true });

        // Without waiting for the delete, the ranking of the earlier pass still counted them: scored 6, total 6, ranks 1, 2
        // missing from the page (the deleted entries are left out only when the page is written).
        Assert.That(fresh!.CoversRequest, Is.True);
        Assert.That(fresh.ScoredRecords, Is.EqualTo(production.Length - 2));
        Assert.That(fresh.TotalResults, Is.EqualTo(production.Length - 2));
        Assert.That(fresh.Recommendations.Select(r => r.ScoreRank), Is.EqualTo(Enumerable.Range(1, production.Length - 2)));
        Assert.That(fresh.Recommendations.Select(r => r.Record.Record.Id), Is.EquivalentTo(production.Skip(2).Select(r => r.Id)));
    }

    [Test, CancelAfter(60_000)]
    public async Task GetRecommendations_DeadlineShorterThanTheWait_AnswersBeforeTheDeadlineWithCoversRequestFalse()
    {
        // The proto: the wait lasts "up to wait_timeout_ms and the call's deadline", and a wait that runs out is not an
        // error. A client whose deadline (10 s) is shorter than the default wait (30 s) must get the page, not DeadlineExceeded.
        await using var server = await StartSlowScoringServerAsync();
        await SeedAsync(server);

        var response = await server.Query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = SetId, WaitThroughSequence = 1_000_000 }, deadline: DateTime.UtcNow + TimeSpan.FromSeconds(10));

        Assert.That(response.CoversRequest, Is.False);
        Assert.That(response.CoveredThroughSequence, Is.LessThan(1_000_000));
    }

    [Test, CancelAfter(120_000)]
    public async Task GetRecommendations_AfterARestart_WaitThroughAStoredRecordsSequenceIsCovered()
    {
        // Before: covered_through_sequence restarted at 0 and latest_sequence at 0, so a wait through the sequence of
        // a record read back with GetRecords (stored before the restart) could never be met and ran out.
        using var directory = new TempDirectory();
        long lastSequence;
        await using (var first = await RunningServer.StartAsync(directory.Path))
        {
            await SeedAsync(first);
            var records = await first.Query.GetRecordsAsync(new GetRecordsRequest { SetId = SetId, PageSize = 1000 }, deadline: DateTime.UtcNow + Timeout);
            lastSequence = records.Records.Max(r => r.Sequence);
        }

        await using var second = await RunningServer.StartAsync(directory.Path);
        var response = await WaitingCallAsync(second, new GetRecommendationsRequest { SetId = SetId, WaitThroughSequence = lastSequence, WaitTimeoutMs = 20_000 });

        Assert.That(response!.CoversRequest, Is.True);
        Assert.That(response.CoveredThroughSequence, Is.GreaterThanOrEqualTo(lastSequence));
        Assert.That(response.LatestSequence, Is.GreaterThanOrEqualTo(lastSequence));
    }

    [TestCase(-1)]
    [TestCase(600_001)]
    public async Task GetRecommendations_WaitTimeoutOutOfRange_InvalidArgumentNamingTheField(int timeoutMs)
    {
        await using var server = await RunningServer.StartAsync();
        await SeedAsync(server);

        var error = Assert.ThrowsAsync<RpcException>(() => server.Query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = SetId, WaitForAcknowledged = true, WaitTimeoutMs = timeoutMs }, deadline: DateTime.UtcNow + Timeout).ResponseAsync);

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(error.Status.Detail, Does.StartWith("wait_timeout_ms:"));
    }

    private static async Task<GetRecommendationsResponse?> WaitingCallAsync(RunningServer server, GetRecommendationsRequest request, bool allowFailedPrecondition = false)
    {
        try
        {
            return await server.Query.GetRecommendationsAsync(request, deadline: DateTime.UtcNow + Timeout);
        }
        catch (RpcException ex) when (allowFailedPrecondition && ex.StatusCode == StatusCode.FailedPrecondition)
        {
            return null;
        }
    }

    private static async Task<Record[]> SeedAsync(RunningServer server)
    {
        var training = Enumerable.Range(0, 20).Select(i => Records.Make([i % 2 == 0 ? 5 : -5, i * 0.1f, 0, 0], "training", i % 2 == 0 ? "a" : "b")).ToArray();
        var production = Enumerable.Range(0, 6).Select(i => Records.Make([i - 3, i, 1, 0], "production")).ToArray();
        var acks = await server.LogAsync(Records.Batch(Set, training), Records.Batch(Set, production));
        Assert.That(acks.Select(a => a.Error), Has.All.Null);
        return production;
    }
}
