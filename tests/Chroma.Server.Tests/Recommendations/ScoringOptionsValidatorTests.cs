using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Internal;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Recommendations;

[TestFixture]
public sealed class ScoringOptionsValidatorTests
{
    public static IEnumerable<TestCaseData> BadOptions()
    {
        static TestCaseData Case(string name, Action<ScoringOptions> breakIt, string fragment) =>
            new TestCaseData(breakIt, fragment).SetName("Validate_" + name + "_FailsNamingTheSetting");

        yield return Case("NegativeDebounce", o => o.Debounce = TimeSpan.FromMilliseconds(-1), "Chroma:Scoring:Debounce (Chroma__Scoring__Debounce) must be between 0 and 1 hour");
        yield return Case("MaxDelayBelowDebounce", o => o.MaxDelay = TimeSpan.FromMilliseconds(100), "Chroma:Scoring:MaxDelay (Chroma__Scoring__MaxDelay) must be between Chroma:Scoring:Debounce");
        yield return Case("NegativeThreads", o => o.Threads = -1, "Chroma:Scoring:Threads (Chroma__Scoring__Threads) must be between 0 and 1024 (got -1)");
        yield return Case("NoConcurrentPass", o => o.ConcurrentPasses = 0, "Chroma:Scoring:ConcurrentPasses (Chroma__Scoring__ConcurrentPasses) must be between 1 and 64 (got 0)");
        yield return Case("TooManyConcurrentPasses", o => o.ConcurrentPasses = 65, "Chroma:Scoring:ConcurrentPasses (Chroma__Scoring__ConcurrentPasses) must be between 1 and 64 (got 65)");
        yield return Case("ZeroLease", o => o.LeaseDuration = TimeSpan.Zero, "Chroma:Scoring:LeaseDuration (Chroma__Scoring__LeaseDuration) must be between 1 second and 1 hour");
        yield return Case("PollAboveThirdOfLease", o => o.ChangePollInterval = TimeSpan.FromSeconds(6), "Chroma:Scoring:ChangePollInterval (Chroma__Scoring__ChangePollInterval) must be between 50 ms and 1 minute and at most a third of Chroma:Scoring:LeaseDuration");
    }

    [TestCaseSource(nameof(BadOptions))]
    public void Validate_BadScoringOption_FailsNamingIt(Action<ScoringOptions> breakIt, string fragment)
    {
        // Arrange
        var options = new ScoringOptions();
        breakIt(options);

        // Act
        var problems = ValidatorAssert.Problems(new ScoringOptionsValidator(), options);

        // Assert
        Assert.That(problems, Does.Contain(fragment));
    }

    [Test]
    public void Validate_Defaults_Succeeds() => ValidatorAssert.Valid(new ScoringOptionsValidator(), new ScoringOptions());
}
