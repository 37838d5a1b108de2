using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Storage;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

/// <summary>What a failed pass tells clients (<see cref="ScoringFailure"/>) and when it ends a wait (<see cref="SetCoverage"/>).</summary>
public class ScoringFailureTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 1, 0, 0, TimeSpan.Zero);

    [Test]
    public void Of_AfterAnotherFailure_CountsThemInARowWithTheExceptionsMessageOnly()
    {
        var first = ScoringFailure.Of(new InvalidOperationException("covariance is singular"), null, Now, 10, 0);

        var second = ScoringFailure.Of(new InvalidOperationException("covariance is singular\nat line two"), first, Now.AddSeconds(1), 12, 1);

        Assert.That(first.ConsecutiveFailures, Is.EqualTo(1));
        Assert.That(second.ConsecutiveFailures, Is.EqualTo(2));
        Assert.That(second.Message, Is.EqualTo("covariance is singular at line two"), "one line, no stack trace");
        Assert.That(second.FailedAt, Is.EqualTo(Now.AddSeconds(1)));
    }

    [Test]
    public void Of_DatabaseOutage_SaysTheDatabaseIsUnavailableNotTheDriversWords()
    {
        var failure = ScoringFailure.Of(new StoreUnavailableException("Host=db.internal;Password=secret: connection refused"), null, Now, 0, 0);

        Assert.That(failure.Message, Does.StartWith("the database is unavailable"));
        Assert.That(failure.Message, Does.Not.Contain("secret").And.Not.Contain("db.internal"));
    }

    [Test]
    public void Of_VeryLongMessage_CutAtAThousandCharacters()
    {
        var failure = ScoringFailure.Of(new InvalidOperationException(new string('x', 5_000)), null, Now, 0, 0);

        Assert.That(failure.Message, Has.Length.EqualTo(1_000).And.EndsWith("..."));
    }

    [Test]
    public void FailedCovering_FailedPassReadWhatTheWaitWants_TrueUntilAPassSucceeds()
    {
        var coverage = new SetCoverage();
        coverage.Stored(10);
        coverage.Failed(ScoringFailure.Of(new InvalidOperationException("boom"), coverage.LastFailure, Now, storedAtStart: 10, deletesAtStart: 1));
        coverage.PassEnded(10, succeeded: false, 1);

        Assert.That(coverage.FailedCovering(10, 1), Is.True);
        Assert.That(coverage.FailedCovering(11, 1), Is.False, "a record stored after the failed pass started: the next pass may cover it");
        Assert.That(coverage.FailedCovering(10, 2), Is.False, "a delete after it started, likewise");

        coverage.PassEnded(11, succeeded: true, 2);

        Assert.That(coverage.LastFailure, Is.Null);
        Assert.That(coverage.FailedCovering(10, 1), Is.False);
    }

    [Test]
    public void PassEnded_Failed_LeavesTheFailureForTheRequestsItWakes()
    {
        var coverage = new SetCoverage();
        var woken = coverage.NextPass;
        coverage.Failed(ScoringFailure.Of(new InvalidOperationException("boom"), null, Now, 5, 0));

        coverage.PassEnded(5, succeeded: false);

        Assert.That(woken.IsCompleted, Is.True);
        Assert.That(coverage.LastFailure?.Message, Is.EqualTo("boom"));
        Assert.That(coverage.CoveredThrough, Is.EqualTo(-1));
    }
}
