using Chroma.Server.Services.Internal;
using NUnit.Framework;

namespace Chroma.Server.Tests.Services;

/// <summary>The server-side wait of GetRecommendations ends before the call's deadline, leaving time to answer.</summary>
public class DeadlineBoundedWaitTests
{
    private static readonly DateTime Now = new(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc);

    [Test]
    public void Limit_NoDeadline_RequestedWait() =>
        Assert.That(DeadlineBoundedWait.Limit(TimeSpan.FromSeconds(30), DateTime.MaxValue, Now), Is.EqualTo(TimeSpan.FromSeconds(30)));

    [Test]
    public void Limit_DeadlineFarBeyondTheWait_RequestedWait() =>
        Assert.That(DeadlineBoundedWait.Limit(TimeSpan.FromSeconds(30), Now.AddMinutes(5), Now), Is.EqualTo(TimeSpan.FromSeconds(30)));

    [Test]
    public void Limit_DeadlineBeforeTheWaitEnds_EndsAFifthOfTheTimeLeftBeforeIt() =>
        Assert.That(DeadlineBoundedWait.Limit(TimeSpan.FromSeconds(30), Now.AddSeconds(5), Now), Is.EqualTo(TimeSpan.FromSeconds(4)));

    [Test]
    public void Limit_LongDeadline_KeepsAtMostTwoSeconds() =>
        Assert.That(DeadlineBoundedWait.Limit(TimeSpan.FromMinutes(10), Now.AddSeconds(60), Now), Is.EqualTo(TimeSpan.FromSeconds(58)));

    [Test]
    public void Limit_ShortDeadline_KeepsAtLeastHalfASecond() =>
        Assert.That(DeadlineBoundedWait.Limit(TimeSpan.FromSeconds(30), Now.AddMilliseconds(1_200), Now), Is.EqualTo(TimeSpan.FromMilliseconds(700)));

    [TestCase(500)]
    [TestCase(300)]
    [TestCase(-1_000)]
    public void Limit_DeadlineTooCloseOrPassed_NoWait(int deadlineInMs) =>
        Assert.That(DeadlineBoundedWait.Limit(TimeSpan.FromSeconds(30), Now.AddMilliseconds(deadlineInMs), Now), Is.EqualTo(TimeSpan.Zero));
}
