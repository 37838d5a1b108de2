using System.Reflection;
using Chroma.Protocol.V1;
using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

/// <summary>
/// The real scheduler and passes on a real SQLite store, with two sets: the first set's pass is held inside its fit
/// (its training read waits on a gate, as a wide set's long covariance step would hold it) while the second set's
/// records arrive. With two lanes the second set is scored meanwhile; with one it waits its turn.
/// </summary>
public sealed class ConcurrentPassesTests
{
    private static readonly TimeSpan PassTimeout = TimeSpan.FromSeconds(30);

    private ScoringFixture _fixture = null!;
    private ScoringScheduler? _scheduler;
    private HeldTrainingRead _held = null!;
    private List<string> _completed = null!;
    private EmbeddingSetDescriptor _other = null!;

    [SetUp]
    public void SetUp()
    {
        _fixture = new ScoringFixture();
        _completed = [];
        _other = Chroma.Server.Tests.TestSupport.Records.Set(ScoringFixture.Dimension, "other");
    }

    [TearDown]
    public async Task TearDown()
    {
        _held?.Release();
        if (_scheduler is not null)
        {
            await _scheduler.StopAsync(CancellationToken.None).WaitAsync(PassTimeout);
            _scheduler.Dispose();
        }

        _fixture.Dispose();
    }

    [Test, CancelAfter(60_000)]
    public async Task Passes_TwoLanesAndOneSetHeldInItsFit_ScoreTheOtherSetMeanwhile(CancellationToken cancellationToken)
    {
        // Arrange: the first set's pass starts and is held in its training read.
        await StartWithFirstPassHeldAsync(concurrentPasses: 2, cancellationToken);

        // Act: the other set's records arrive and its debounce passes.
        var otherScored = await SendOtherSetAsync();
        var other = await otherScored.WaitAsync(PassTimeout, cancellationToken);
        var heldScoresMeanwhile = _scheduler!.Scores(_fixture.StoredSet).Entries.Count;

        var heldScored = PassOf(_fixture.Set);
        _held.Release();
        var held = await heldScored.WaitAsync(PassTimeout, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(other.Scored, Is.EqualTo(7), "the other set was scored while the first pass was held");
            Assert.That(_scheduler.Scores(_fixture.Storage.RequireSet(_other)).Entries, Has.Count.EqualTo(7));
            Assert.That(heldScoresMeanwhile, Is.Zero, "the held pass had published nothing");
            Assert.That(held.Scored, Is.EqualTo(10), "the held pass ends once released");
            Assert.That(Completed(), Is.EqualTo(new[] { "other", "scoring" }));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Passes_OneLaneAndOneSetHeldInItsFit_ScoreTheOtherSetOnlyAfterIt(CancellationToken cancellationToken)
    {
        await StartWithFirstPassHeldAsync(concurrentPasses: 1, cancellationToken);

        var otherScored = await SendOtherSetAsync();
        _held.Release();
        var other = await otherScored.WaitAsync(PassTimeout, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(other.Scored, Is.EqualTo(7));
            Assert.That(Completed(), Is.EqualTo(new[] { "scoring", "other" }), "one lane: the other set waited for the held pass");
        });
    }

    // Starts the scheduler, then stores the first set's records: its pass starts once their debounce passed, and is held.
    private async Task StartWithFirstPassHeldAsync(int concurrentPasses, CancellationToken cancellationToken)
    {
        await StartAsync(concurrentPasses);
        await _fixture.IngestAsync([.. ScoringFixture.Training(), .. ScoringFixture.InDistribution(10, seed: 2)]);
        _fixture.Storage.Clock.Advance(_fixture.Options.Debounce);
        await _held.Entered.WaitAsync(PassTimeout, cancellationToken);
    }

    // Stores the other set's records and lets their debounce pass; completes with the pass that scores them.
    private async Task<Task<ScoringPassResult>> SendOtherSetAsync()
    {
        var otherScored = PassOf(_other);
        await _fixture.Storage.IngestAsync(_other, [.. ScoringFixture.Training(seed: 5), .. ScoringFixture.InDistribution(7, seed: 6)]);
        _fixture.Storage.Clock.Advance(_fixture.Options.Debounce);
        return otherScored;
    }

    private async Task StartAsync(int concurrentPasses)
    {
        _held = HeldTrainingRead.Wrap(_fixture.Storage.Scores, Chroma.Server.Tests.TestSupport.Records.SetId(_fixture.Set));
        var options = _fixture.Options.Clone();
        options.ConcurrentPasses = concurrentPasses;
        _scheduler = new ScoringScheduler(
            _fixture.Storage.Store, new ProcessLocalCoordination(), _fixture.CreatePass((IRecordScoreStore)_held.Proxy), options, _fixture.Storage.Clock, NullLogger<ScoringScheduler>.Instance);
        _fixture.Storage.Observers.Add(_scheduler);
        _scheduler.PassCompleted += result =>
        {
            if (result.Scored > 0)
            {
                lock (_completed)
                {
                    _completed.Add(result.SetId);
                }
            }
        };
        await _scheduler.StartAsync(CancellationToken.None);
    }

    private Task<ScoringPassResult> PassOf(EmbeddingSetDescriptor set)
    {
        var setId = Chroma.Server.Tests.TestSupport.Records.SetId(set);
        var done = new TaskCompletionSource<ScoringPassResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _scheduler!.PassCompleted += result =>
        {
            if (result.SetId == setId && result.Scored > 0)
            {
                done.TrySetResult(result);
            }
        };
        return done.Task;
    }

    // The sets whose passes scored records, in the order they ended.
    private string[] Completed()
    {
        var other = Chroma.Server.Tests.TestSupport.Records.SetId(_other);
        lock (_completed)
        {
            return [.. _completed.Select(id => id == other ? "other" : "scoring")];
        }
    }

    /// <summary>
    /// Forwards every call to the real score store, except that one set's training read waits until released: what
    /// holds the pass (the cause) is faked, the scheduler and passes under test are real.
    /// </summary>
    public class HeldTrainingRead : DispatchProxy
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ManualResetEventSlim _released = new();
        private IRecordScoreStore _inner = null!;
        private string _setId = string.Empty;

        /// <summary>Gets the store to hand to the pass.</summary>
        public object Proxy { get; private set; } = null!;

        /// <summary>Completes when the held set's training read started.</summary>
        public Task Entered => _entered.Task;

        internal static HeldTrainingRead Wrap(IRecordScoreStore inner, string setId)
        {
            var proxy = Create<IRecordScoreStore, HeldTrainingRead>();
            var held = (HeldTrainingRead)(object)proxy;
            held._inner = inner;
            held._setId = setId;
            held.Proxy = proxy;
            return held;
        }

        /// <summary>Lets the held read go on (and every later one).</summary>
        public void Release() => _released.Set();

        /// <inheritdoc />
        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name == nameof(IRecordScoreStore.ReadTraining) && args?[0] is StoredEmbeddingSet set && set.SetId == _setId)
            {
                _entered.TrySetResult();
                _released.Wait(PassTimeout);
            }

            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex.InnerException);
                throw;
            }
        }
    }
}
