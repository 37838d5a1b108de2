using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Internal;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Recommendations;

[TestFixture]
public sealed class DriftOptionsValidatorTests
{
    public static IEnumerable<TestCaseData> BadOptions()
    {
        static TestCaseData Case(string name, Action<DriftOptions> breakIt, string fragment) =>
            new TestCaseData(breakIt, fragment).SetName("Validate_" + name + "_FailsNamingTheSetting");

        yield return Case("OneRecordDriftWindow", o => o.Window = 1, "Chroma:Drift:Window (Chroma__Drift__Window) must be between 2 and 100000 (got 1)");
        yield return Case("OneSample", o => o.SampleSize = 1, "Chroma:Drift:SampleSize (Chroma__Drift__SampleSize) must be between 2 and 100000 (got 1)");
        yield return Case("NoPermutations", o => o.Permutations = 0, "Chroma:Drift:Permutations (Chroma__Drift__Permutations) must be between 1 and 100000 (got 0)");
        yield return Case(
            "NegativeHistorySpacing", o => o.HistorySpacing = TimeSpan.FromSeconds(-1),
            "Chroma:Drift:HistorySpacing (Chroma__Drift__HistorySpacing) must be between 0 and 1 day (got -00:00:01)");
        yield return Case(
            "HistorySpacingOverADay", o => o.HistorySpacing = TimeSpan.FromDays(2),
            "Chroma:Drift:HistorySpacing (Chroma__Drift__HistorySpacing) must be between 0 and 1 day (got 2.00:00:00)");
    }

    [TestCaseSource(nameof(BadOptions))]
    public void Validate_BadDriftOption_FailsNamingIt(Action<DriftOptions> breakIt, string fragment)
    {
        // Arrange
        var options = new DriftOptions();
        breakIt(options);

        // Act
        var problems = ValidatorAssert.Problems(new DriftOptionsValidator(), options);

        // Assert
        Assert.That(problems, Does.Contain(fragment));
    }

    [Test]
    public void Validate_Defaults_Succeeds() => ValidatorAssert.Valid(new DriftOptionsValidator(), new DriftOptions());
}
