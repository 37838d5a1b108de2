using Chroma.Server.Labeling;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Recommendations.Serving;
using Microsoft.Extensions.Time.Testing;

namespace Chroma.Server.Tests.Recommendations.Serving;

/// <summary>The rankings later pages come from are kept while used, for a bounded time and number.</summary>
[TestFixture]
public sealed class PinnedRankingsTests
{
    // Rankings differ by content (a page token names one by its fingerprint): here, by the training version.
    private static SetScores Scores(long revision) => new([], $"v{revision}", 1_000 + revision, revision, null);

    [Test]
    public void Find_PinnedRanking_TheScoresAndExclusionsItWasCutFrom()
    {
        var pinned = new PinnedRankings(new FakeTimeProvider());
        var scores = Scores(3);
        var excluded = new ReviewedSnapshot(new HashSet<long> { 7 }, 12);
        pinned.Pin(1, scores, excluded);

        var found = pinned.Find(1, RankingAnchor.Of(scores, excluded));

        Assert.That(found, Is.Not.Null);
        Assert.That(found!.Value.Scores, Is.SameAs(scores));
        Assert.That(found.Value.Excluded, Is.SameAs(excluded));
        Assert.That(pinned.Find(2, RankingAnchor.Of(scores, excluded)), Is.Null, "another set");
        Assert.That(pinned.Find(1, RankingAnchor.Of(scores, null)), Is.Null, "the same scores without exclusions are another ranking");
    }

    [Test]
    public void Find_IdleLongerThanTheLimit_Gone_UsedWithinIt_Kept()
    {
        var clock = new FakeTimeProvider();
        var pinned = new PinnedRankings(clock);
        var used = Scores(1);
        var idle = Scores(2);
        pinned.Pin(1, used, null);
        pinned.Pin(1, idle, null);

        clock.Advance(PinnedRankings.IdleLimit / 2);
        Assert.That(pinned.Find(1, RankingAnchor.Of(used, null)), Is.Not.Null);
        clock.Advance((PinnedRankings.IdleLimit / 2) + TimeSpan.FromSeconds(1));

        Assert.That(pinned.Find(1, RankingAnchor.Of(idle, null)), Is.Null, "no page asked of it for longer than the limit");
        Assert.That(pinned.Find(1, RankingAnchor.Of(used, null)), Is.Not.Null, "a page was asked of it within the limit");
    }

    [Test]
    public void Pin_MoreRankingsOfOneSetThanKept_TheLeastRecentlyUsedGo()
    {
        var clock = new FakeTimeProvider();
        var pinned = new PinnedRankings(clock);
        var scores = Enumerable.Range(1, PinnedRankings.MaxPerSet + 3).Select(r => Scores(r)).ToList();
        foreach (var s in scores)
        {
            pinned.Pin(1, s, null);
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        pinned.Pin(2, Scores(1), null);

        var kept = scores.Where(s => pinned.Find(1, RankingAnchor.Of(s, null)) is not null).Select(s => s.Revision).ToList();
        Assert.That(kept, Is.EqualTo(scores.TakeLast(PinnedRankings.MaxPerSet + 1).Select(s => s.Revision)), "the newest besides the current one");
        Assert.That(pinned.Find(2, RankingAnchor.Of(Scores(1), null)), Is.Not.Null, "other sets keep theirs");
    }
}
