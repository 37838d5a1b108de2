using Chroma.Server.Recommendations.Scheduling;
using Microsoft.Extensions.Time.Testing;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

public sealed class ScoringLanesTests
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));

    [Test]
    public void MayStart_TwoLanes_OnePassPerSetAndNoMoreThanTwoAtOnce()
    {
        var lanes = new ScoringLanes(2, _clock);

        lanes.Started(1);
        var sameSetAgain = lanes.MayStart(1);
        var secondSet = lanes.MayStart(2);
        lanes.Started(2);

        Assert.Multiple(() =>
        {
            Assert.That(sameSetAgain, Is.False, "a set never has two passes at once");
            Assert.That(secondSet, Is.True);
            Assert.That(lanes.Full, Is.True);
            Assert.That(lanes.MayStart(3), Is.False, "both lanes run a pass");
        });
    }

    [Test]
    public void Ended_PassOfFiveSecondsOrMore_MarksTheSetSlowUntilAShortPass()
    {
        var lanes = new ScoringLanes(2, _clock);

        lanes.Started(1);
        _clock.Advance(ScoringLanes.SlowPass - TimeSpan.FromMilliseconds(1));
        var quick = lanes.Ended(1);
        var slowAfterQuick = lanes.IsSlow(1);
        lanes.Started(1);
        _clock.Advance(ScoringLanes.SlowPass);
        lanes.Ended(1);
        var slowAfterLong = lanes.IsSlow(1);
        lanes.Started(1);
        _clock.Advance(TimeSpan.FromMilliseconds(10));
        lanes.Ended(1);

        Assert.Multiple(() =>
        {
            Assert.That(quick, Is.EqualTo(ScoringLanes.SlowPass - TimeSpan.FromMilliseconds(1)));
            Assert.That(slowAfterQuick, Is.False);
            Assert.That(slowAfterLong, Is.True);
            Assert.That(lanes.IsSlow(1), Is.False, "a short pass makes it quick again");
            Assert.That(lanes.Running, Is.Zero);
        });
    }

    [Test]
    public void MayStart_SlowSetRunning_KeepsTheLastLaneForSetsThatAreNotSlow()
    {
        var lanes = new ScoringLanes(2, _clock);
        MakeSlow(lanes, 1);
        MakeSlow(lanes, 2);

        lanes.Started(1);

        Assert.Multiple(() =>
        {
            Assert.That(lanes.MayStart(2), Is.False, "a second slow set waits");
            Assert.That(lanes.MayStart(3), Is.True, "a set that is not slow takes the last lane");
        });
    }

    [Test]
    public void MayStart_PassRunningFiveSecondsOfASetNotYetSlow_CountsAsSlow()
    {
        var lanes = new ScoringLanes(2, _clock);
        MakeSlow(lanes, 2);

        lanes.Started(1);
        var beforeFiveSeconds = lanes.MayStart(2);
        _clock.Advance(ScoringLanes.SlowPass);

        Assert.Multiple(() =>
        {
            Assert.That(beforeFiveSeconds, Is.True, "the running pass of a quick set does not keep a lane yet");
            Assert.That(lanes.MayStart(2), Is.False, "once it has run 5 s it counts as slow: the slow set waits");
            Assert.That(lanes.MayStart(3), Is.True);
        });
    }

    [Test]
    public void MayStart_ThreeLanes_LetsTwoSlowSetsRunAndKeepsOne()
    {
        var lanes = new ScoringLanes(3, _clock);
        MakeSlow(lanes, 1);
        MakeSlow(lanes, 2);
        MakeSlow(lanes, 3);

        lanes.Started(1);
        var secondSlow = lanes.MayStart(2);
        lanes.Started(2);

        Assert.Multiple(() =>
        {
            Assert.That(secondSlow, Is.True);
            Assert.That(lanes.MayStart(3), Is.False);
            Assert.That(lanes.MayStart(4), Is.True);
        });
    }

    [Test]
    public void MayStart_OneLane_AnySetWhenFreeEvenASlowOne()
    {
        var lanes = new ScoringLanes(1, _clock);
        MakeSlow(lanes, 1);

        var slowWhenFree = lanes.MayStart(1);
        lanes.Started(1);

        Assert.Multiple(() =>
        {
            Assert.That(slowWhenFree, Is.True, "with one lane nothing is kept back");
            Assert.That(lanes.MayStart(2), Is.False);
        });
    }

    [Test]
    public void Constructor_NoLane_Throws() =>
        Assert.That(() => new ScoringLanes(0, _clock), Throws.InstanceOf<ArgumentOutOfRangeException>());

    private void MakeSlow(ScoringLanes lanes, long key)
    {
        lanes.Started(key);
        _clock.Advance(ScoringLanes.SlowPass);
        lanes.Ended(key);
    }
}
