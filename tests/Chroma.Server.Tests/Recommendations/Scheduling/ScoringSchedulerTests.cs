using Chroma.Server.Background;
using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Recommendations.Serving;
using Chroma.Server.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

public sealed class ScoringSchedulerTests
{
    private static readonly TimeSpan PassTimeout = TimeSpan.FromSeconds(30);

    private ScoringFixture _fixture = null!;
    private ScoringScheduler _scheduler = null!;
    private List<ScoringPassResult> _passes = null!;
    private TaskCompletionSource<ScoringPassResult> _nextPass = null!;

    [SetUp]
    public async Task SetUp()
    {
        _fixture = new ScoringFixture();
        _passes = [];
        _nextPass = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _scheduler = new ScoringScheduler(_fixture.Storage.Store, new ProcessLocalCoordination(), _fixture.CreatePass(), _fixture.Options, _fixture.Storage.Clock, NullLogger<ScoringScheduler>.Instance);
        _fixture.Storage.Observers.Add(_scheduler);
        _scheduler.PassCompleted += result =>
        {
            lock (_passes)
            {
                _passes.Add(result);
                _nextPass.TrySetResult(result);
            }
        };
        await _scheduler.StartAsync(CancellationToken.None);
    }

    [TearDown]
    public async Task TearDown()
    {
        await _scheduler.StopAsync(CancellationToken.None).WaitAsync(PassTimeout);
        _scheduler.Dispose();
        _fixture.Dispose();
    }

    [Test, CancelAfter(60_000)]
    public async Task OnRecordsStored_QuietForTheDebounce_RunsOnePassAfterItAndNotBefore(CancellationToken cancellationToken)
    {
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(10, seed: 2)]);
        await _fixture.IngestAsync(ScoringFixture.InDistribution(5, seed: 3));

        _fixture.Storage.Clock.Advance(TimeSpan.FromMilliseconds(499));
        await Task.Yield();
        var passesBeforeDebounce = _scheduler.CompletedPasses;
        _fixture.Storage.Clock.Advance(TimeSpan.FromMilliseconds(1));
        var pass = await NextPassAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(passesBeforeDebounce, Is.Zero);
            Assert.That(pass.Scored, Is.EqualTo(15), "both batches in one pass");
            Assert.That(_scheduler.Scores(_fixture.StoredSet).Entries, Has.Count.EqualTo(15));
            Assert.That(_scheduler.CompletedPasses, Is.EqualTo(1));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task OnRecordsStored_SteadyStreamNeverQuiet_RunsAPassAtTheMaxDelay(CancellationToken cancellationToken)
    {
        // Debounce 500 ms, max delay 2 s: a batch every 400 ms would postpone a pure debounce forever.
        await _fixture.IngestAsync(ScoringFixture.Training());
        var passesBeforeMaxDelay = 0;
        for (var i = 0; i < 4; i++)
        {
            _fixture.Storage.Clock.Advance(TimeSpan.FromMilliseconds(400));
            await _fixture.IngestAsync(ScoringFixture.InDistribution(2, seed: 10 + i));
            passesBeforeMaxDelay += _scheduler.CompletedPasses;
        }

        _fixture.Storage.Clock.Advance(TimeSpan.FromMilliseconds(399));
        await Task.Yield();
        passesBeforeMaxDelay += _scheduler.CompletedPasses;
        _fixture.Storage.Clock.Advance(TimeSpan.FromMilliseconds(1));
        var pass = await NextPassAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(passesBeforeMaxDelay, Is.Zero, "no pass before 2 s after the first change");
            Assert.That(pass.Scored, Is.EqualTo(8), "the four batches of the stream so far");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task OnRecordsDeleted_ProductionRecord_NextPassDropsItsScore(CancellationToken cancellationToken)
    {
        var production = ScoringFixture.InDistribution(6, seed: 2);
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. production]);
        _fixture.Storage.Clock.Advance(TimeSpan.FromMilliseconds(500));
        await NextPassAsync(cancellationToken);
        ResetNextPass();

        await _fixture.Storage.Store.DeleteAsync(_fixture.StoredSet, [production[0].Id], cancellationToken);
        _fixture.Storage.Clock.Advance(TimeSpan.FromMilliseconds(500));
        var pass = await NextPassAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(pass.Total, Is.EqualTo(5));
            Assert.That(_scheduler.Scores(_fixture.StoredSet).Entries.Select(e => e.Record.Id), Has.No.Member(production[0].Id));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task ExecuteAsync_StoreWithUnscoredRecords_ScoresThemOneDebounceAfterStartWithoutAnIngest(CancellationToken cancellationToken)
    {
        await _scheduler.StopAsync(cancellationToken);
        _scheduler.Dispose();
        _fixture.Storage.Observers.Clear();
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(4, seed: 2)]);
        _scheduler = new ScoringScheduler(_fixture.Storage.Store, new ProcessLocalCoordination(), _fixture.CreatePass(), _fixture.Options, _fixture.Storage.Clock, NullLogger<ScoringScheduler>.Instance);
        _scheduler.PassCompleted += result => _nextPass.TrySetResult(result);

        await _scheduler.StartAsync(cancellationToken);
        _fixture.Storage.Clock.Advance(_fixture.Options.Debounce);
        var pass = await NextPassAsync(cancellationToken);

        Assert.That(pass.Scored, Is.EqualTo(4));
    }

    [Test, CancelAfter(60_000)]
    public async Task RankingPublished_RankingAskedForAtThePreviousRevision_IsRankedAgainOnlyWhileInUse(CancellationToken cancellationToken)
    {
        // Arrange: the worker announces each published ranking; the pages are refreshed here, on the test's thread (the
        // server queues the same call on its background threads), so the counts are deterministic.
        var announced = new List<string>();
        _scheduler.RankingPublished += set =>
        {
            lock (announced)
            {
                announced.Add(set.SetId);
            }
        };
        var pages = new RecommendationPages(_fixture.Storage.Scores, new RecommendationOptions());
        var request = new RecommendationPageRequest(RecommendationStrategy.Balanced, "production", new Dictionary<string, string>(), AllScores: false, Offset: 0, PageSize: 10);
        await PassAfterAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(10, seed: 2)], cancellationToken);
        pages.GetPage(_fixture.StoredSet, _scheduler.Scores(_fixture.StoredSet), request);

        // Act: a pass publishes 5 more records; the ranking asked for at the previous revision is ranked again.
        await PassAfterAsync(ScoringFixture.InDistribution(5, seed: 3), cancellationToken);
        var refreshedAsked = pages.Refresh(_fixture.StoredSet, _scheduler.Scores(_fixture.StoredSet));
        var page = pages.GetPage(_fixture.StoredSet, _scheduler.Scores(_fixture.StoredSet), request);
        var computedAfterPage = pages.RankingsComputed;

        // Act: two passes more, nobody asking in between: the first still refreshes (asked at its revision), the second not.
        await PassAfterAsync(ScoringFixture.InDistribution(3, seed: 4), cancellationToken);
        var refreshedOnce = pages.Refresh(_fixture.StoredSet, _scheduler.Scores(_fixture.StoredSet));
        await PassAfterAsync(ScoringFixture.InDistribution(3, seed: 5), cancellationToken);
        var refreshedUnasked = pages.Refresh(_fixture.StoredSet, _scheduler.Scores(_fixture.StoredSet));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(announced, Has.Count.GreaterThanOrEqualTo(4).And.All.EqualTo(_fixture.StoredSet.SetId), "one announcement per pass that published");
            Assert.That(refreshedAsked, Is.EqualTo(1));
            Assert.That(page.Scored, Is.EqualTo(15), "the page was served from the refreshed ranking, which holds the new records");
            Assert.That(computedAfterPage, Is.EqualTo(2), "the request found the ranking ready: none computed for it");
            Assert.That(refreshedOnce, Is.EqualTo(1));
            Assert.That(refreshedUnasked, Is.Zero, "a ranking nobody asked for since the last refresh is left");
            Assert.That(pages.RankingsComputed, Is.EqualTo(3));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RankingPublished_ServerPages_RefreshRankingInUseOnBackgroundThreadsWithoutARequest(CancellationToken cancellationToken)
    {
        // Arrange: the pages as the server builds them, subscribed to the worker's announcements.
        using var limiter = new BackgroundWorkLimiter(1, "test");
        var pages = new RecommendationPages(_fixture.Storage.Scores, new RecommendationOptions(), _scheduler, limiter, NullLogger<RecommendationPages>.Instance);
        var request = new RecommendationPageRequest(RecommendationStrategy.Balanced, "production", new Dictionary<string, string>(), AllScores: false, Offset: 0, PageSize: 10);
        await PassAfterAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(10, seed: 2)], cancellationToken);
        pages.GetPage(_fixture.StoredSet, _scheduler.Scores(_fixture.StoredSet), request);
        var computedByRequest = pages.RankingsComputed;

        // Act: a pass publishes 5 more records; nobody asks.
        await PassAfterAsync(ScoringFixture.InDistribution(5, seed: 3), cancellationToken);
        while (pages.RankingsComputed == computedByRequest)
        {
            await Task.Delay(10, cancellationToken);
        }

        // Assert: the ranking in use was computed again by the job the announcement queued (the test made no request).
        Assert.Multiple(() =>
        {
            Assert.That(computedByRequest, Is.EqualTo(1));
            Assert.That(pages.RankingsComputed, Is.GreaterThanOrEqualTo(2));
        });
    }

    private async Task PassAfterAsync(Chroma.Protocol.V1.Record[] records, CancellationToken cancellationToken)
    {
        ResetNextPass();
        await _fixture.IngestAsync(records);
        _fixture.Storage.Clock.Advance(_fixture.Options.Debounce);
        await NextPassAsync(cancellationToken);
    }

    private Task<ScoringPassResult> NextPassAsync(CancellationToken cancellationToken)
    {
        lock (_passes)
        {
            return _nextPass.Task.WaitAsync(PassTimeout, cancellationToken);
        }
    }

    private void ResetNextPass()
    {
        lock (_passes)
        {
            _nextPass = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }
}
