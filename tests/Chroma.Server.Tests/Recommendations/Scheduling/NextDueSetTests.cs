using Chroma.Server.Recommendations.Scheduling;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

[TestFixture]
public sealed class NextDueSetTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(2);

    private static (long? Key, TimeSpan? Wait) Pick(params (long Key, double FirstAgoMs, double? LastAgoMs)[] sets) =>
        NextDueSet.Pick(
            sets.Select(s => (s.Key, Now.AddMilliseconds(-s.FirstAgoMs), s.LastAgoMs is { } last ? Now.AddMilliseconds(-last) : DateTimeOffset.MinValue)),
            Now,
            Debounce,
            MaxDelay);

    [Test]
    public void Pick_SeveralDue_OnlyTheOneDueLongest() =>
        Assert.That(Pick((1, 600, 600), (2, 900, 900), (3, 700, 700)), Is.EqualTo(((long?)2, (TimeSpan?)null)));

    [Test]
    public void Pick_HurriedSetAmongSetsDueLonger_TheHurriedOneFirst() =>
        Assert.That(Pick((1, 1_900, 1_900), (7, 10, null), (3, 1_000, 1_000)).Key, Is.EqualTo(7), "a set someone waits for goes first");

    [Test]
    public void Pick_NoneDue_WaitUntilTheSoonest()
    {
        var (key, wait) = Pick((1, 100, 100), (2, 1_800, 50));

        Assert.Multiple(() =>
        {
            Assert.That(key, Is.Null);
            Assert.That(wait, Is.EqualTo(TimeSpan.FromMilliseconds(200)), "set 2 reaches its max delay in 200 ms, set 1 its debounce in 400");
        });
    }

    [Test]
    public void Pick_OneDueOneNot_TheDueOneAndTheWaitForTheOther() =>
        Assert.That(Pick((1, 600, 600), (2, 100, 100)), Is.EqualTo(((long?)1, (TimeSpan?)TimeSpan.FromMilliseconds(400))));

    [Test]
    public void Pick_TiedDueTimes_LowestKey() =>
        Assert.That(Pick((9, 700, 700), (4, 700, 700)).Key, Is.EqualTo(4));
}
