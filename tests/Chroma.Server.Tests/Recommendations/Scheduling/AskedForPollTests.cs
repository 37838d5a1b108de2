using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

/// <summary>
/// A poll that a notice asks for (another replica published a ranking, or the listener missed notices) must run at
/// once, whatever the worker was doing when it was asked: reading the watermarks already, or leaving a set to a pass of
/// it that is only an attempt at the lease. Before, both lost the request until the next regular poll, 20 s later here
/// (a replica served the holder's new ranking after 20,025 ms once in CI). The replicas' shared database is isolated
/// here (<see cref="OtherReplicasDatabase"/>); the store, the pass and the scheduler are real, and the clock
/// never reaches the next regular poll, so only the asked-for poll can read anything.
/// </summary>
[TestFixture]
public sealed class AskedForPollTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan LongAfter = TimeSpan.FromDays(1);

    private ScoringFixture _fixture = null!;
    private OtherReplicasDatabase _coordination = null!;
    private ScoringScheduler? _scheduler;
    private readonly List<TaskCompletionSource> _polls = [];
    private IReadOnlyList<SetWatermark> _marks = [];
    private Action? _duringPoll;

    [SetUp]
    public void SetUp()
    {
        _fixture = new ScoringFixture();
        _polls.Clear();
        _marks = [];
        _duringPoll = null;
        _coordination = new OtherReplicasDatabase(() =>
        {
            // Every call completes the next expected poll (polls past the fourth are not watched); the action runs inside
            // the poll, once.
            lock (_polls)
            {
                _polls.FirstOrDefault(p => !p.Task.IsCompleted)?.SetResult();
            }

            Interlocked.Exchange(ref _duringPoll, null)?.Invoke();
            return _marks;
        });
        for (var i = 0; i < 4; i++)
        {
            _polls.Add(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        }
    }

    [TearDown]
    public async Task TearDown()
    {
        if (_scheduler is not null)
        {
            await _scheduler.StopAsync(CancellationToken.None).WaitAsync(Bound);
            _scheduler.Dispose();
        }

        _fixture.Dispose();
    }

    [Test, CancelAfter(60_000)]
    public async Task OnChangesMissed_WhileTheWatermarksAreRead_PollsAgainAtOnce(CancellationToken cancellationToken)
    {
        // Arrange: the first poll (at the start) is under way when the notice asks for another.
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(5, seed: 2)]);
        _duringPoll = () => _scheduler!.OnChangesMissed();

        // Act
        await StartAsync(cancellationToken);

        // Assert: the clock stands still, so the regular poll never comes; only the asked-for one can.
        await _polls[0].Task.WaitAsync(Bound, cancellationToken);
        Assert.That(async () => await _polls[1].Task.WaitAsync(Bound, cancellationToken), Throws.Nothing, "the poll asked for during the first one ran");
    }

    [Test, CancelAfter(60_000)]
    public async Task OnChangesMissed_WhileTheSetsLeaseIsAskedFor_ReadsTheNewRankingWhenTheAttemptEnds(CancellationToken cancellationToken)
    {
        // Arrange: the set's pass starts (its debounce after the start) and waits on the lease, which another replica
        // holds; meanwhile that replica publishes a ranking and the notice asks this one to poll.
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(5, seed: 2)]);
        var leaseAskedFor = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var leaseAnswer = new TaskCompletionSource<ScoringLease?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _coordination.Acquire = () =>
        {
            leaseAskedFor.TrySetResult();
            return leaseAnswer.Task;
        };
        var firstRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await StartAsync(cancellationToken);
        _scheduler!.RankingPublished += set =>
        {
            if (set.Key == _fixture.StoredSet.Key)
            {
                firstRead.TrySetResult();
            }
        };
        await _polls[0].Task.WaitAsync(Bound, cancellationToken);
        _fixture.Storage.Clock.Advance(_fixture.Options.Debounce);
        await leaseAskedFor.Task.WaitAsync(Bound, cancellationToken);

        // A second set, which this replica never scored, is listed after the first: its read of the holder's deletes
        // comes after the poll left the first set to its running attempt, and ends that attempt (lease held elsewhere).
        var other = Records.Set(ScoringFixture.Dimension, "asked-for-poll-other");
        await _fixture.Storage.IngestAsync(other, [.. ScoringFixture.Training(seed: 3)]);
        var otherSet = _fixture.Storage.RequireSet(other);
        _coordination.DeletesRead = set =>
        {
            if (set.Key == otherSet.Key)
            {
                leaseAnswer.TrySetResult(null);
            }
        };
        _marks = [PublishedElsewhere(_fixture.StoredSet), PublishedElsewhere(otherSet)];

        // Act
        _scheduler.OnChangesMissed();

        // Assert: the clock stands still, so only a poll the attempt's end asks for reads the first set's new ranking.
        await _polls[1].Task.WaitAsync(Bound, cancellationToken);
        Assert.Multiple(() =>
        {
            Assert.That(async () => await _polls[2].Task.WaitAsync(Bound, cancellationToken), Throws.Nothing, "polled again when the lease attempt ended");
            Assert.That(async () => await firstRead.Task.WaitAsync(Bound, cancellationToken), Throws.Nothing, "and read the holder's new ranking of the set");
        });
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        // The fixture's debounce; the replicas' regular poll far beyond anything the test waits for.
        var options = new ScoringOptions
        {
            Debounce = _fixture.Options.Debounce,
            MaxDelay = _fixture.Options.MaxDelay,
            ChangePollInterval = TimeSpan.FromSeconds(20),
            LeaseDuration = TimeSpan.FromMinutes(1),
        };
        _scheduler = new ScoringScheduler(_fixture.Storage.Store, _coordination, _fixture.CreatePass(), options, _fixture.Storage.Clock, NullLogger<ScoringScheduler>.Instance);
        await _scheduler.StartAsync(cancellationToken);
    }

    // The holder (another replica) published revision 1 of the set's ranking, covering every record stored.
    private SetWatermark PublishedElsewhere(StoredEmbeddingSet set)
    {
        var last = _fixture.Storage.Store.ReadLastSequences()[set.SetId];
        var expires = _fixture.Storage.Clock.GetUtcNow().Add(LongAfter).ToUnixTimeMilliseconds();
        return new SetWatermark(set.Key, set.SetId, last, 0, 1, last, "other-replica", expires, 7, 0);
    }

    // Another replica holds every lease; no deletes were made. What the tests do not expect to be called throws.
    private sealed class OtherReplicasDatabase(Func<IReadOnlyList<SetWatermark>> watermarks) : IReplicaCoordination
    {
        public Func<Task<ScoringLease?>> Acquire { get; set; } = () => Task.FromResult<ScoringLease?>(null);

        public Action<StoredEmbeddingSet> DeletesRead { get; set; } = _ => { };

        public bool Shared => true;

        public Task<ScoringLease?> TryAcquireAsync(StoredEmbeddingSet set, string holder, TimeSpan duration, CancellationToken cancellationToken = default) => Acquire();

        public IReadOnlyList<SetWatermark> ReadWatermarks() => watermarks();

        public Task<SetDeletes> ReadDeletesAsync(StoredEmbeddingSet set, long afterStamp, CancellationToken cancellationToken = default)
        {
            DeletesRead(set);
            return Task.FromResult(new SetDeletes(0, 0, []));
        }

        public Task<bool> RenewAsync(ScoringLease lease, TimeSpan duration, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task ReleaseAsync(ScoringLease lease, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<long?> PublishPassAsync(ScoringLease lease, long coveredThrough, long deletesApplied, long computedUnixMs, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public Task RecordFailureAsync(ScoringLease lease, ScoringFailure failure, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task RequestPassAsync(StoredEmbeddingSet set, long throughSequence, long throughDeletes, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public Task<SetAcknowledged> ReadAcknowledgedAsync(StoredEmbeddingSet set, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IAsyncDisposable?> TryEnterRetentionAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task SaveRetentionRunAsync(RetentionRun run, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public IReadOnlyList<RetentionRun> ReadRetentionRuns() => throw new NotSupportedException();
    }
}
