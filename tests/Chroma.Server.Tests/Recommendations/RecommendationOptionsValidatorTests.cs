using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Internal;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Recommendations;

[TestFixture]
public sealed class RecommendationOptionsValidatorTests
{
    public static IEnumerable<TestCaseData> BadOptions()
    {
        static TestCaseData Case(string name, Action<RecommendationOptions> breakIt, string fragment) =>
            new TestCaseData(breakIt, fragment).SetName("Validate_" + name + "_FailsNamingTheSetting");

        yield return Case("ZeroNeighbors", o => o.NeighborCount = 0, "Chroma:Recommendations:NeighborCount (Chroma__Recommendations__NeighborCount) must be between 1");
        yield return Case("HoldOutOne", o => o.HoldOutFraction = 1, "Chroma:Recommendations:HoldOutFraction (Chroma__Recommendations__HoldOutFraction) must be between 0 and 1, both excluded (got 1)");
        yield return Case("HoldOutNaN", o => o.HoldOutFraction = double.NaN, "Chroma:Recommendations:HoldOutFraction");
        yield return Case("ZeroHeldOut", o => o.MaxHeldOut = 0, "Chroma:Recommendations:MaxHeldOut (Chroma__Recommendations__MaxHeldOut) must be between 1");
        yield return Case("ZeroNeighborRows", o => o.MaxNeighborRows = 0, "Chroma:Recommendations:MaxNeighborRows (Chroma__Recommendations__MaxNeighborRows) must be between 1");
        yield return Case("NegativeDuplicateThreshold", o => o.NearDuplicateThreshold = -0.1, "Chroma:Recommendations:NearDuplicateThreshold (Chroma__Recommendations__NearDuplicateThreshold) must be 0 or more");
        yield return Case("ZeroPool", o => o.CandidatePoolSize = 0, "Chroma:Recommendations:CandidatePoolSize (Chroma__Recommendations__CandidatePoolSize) must be between 1");
        yield return Case("NegativeDuplicateIds", o => o.MaxDuplicateIdsPerEntry = -1, "Chroma:Recommendations:MaxDuplicateIdsPerEntry (Chroma__Recommendations__MaxDuplicateIdsPerEntry) must be between 0");
        yield return Case("ZeroWindow", o => o.DiversityWindow = 0, "Chroma:Recommendations:DiversityWindow (Chroma__Recommendations__DiversityWindow) must be between 1");
        yield return Case("RelevanceAboveOne", o => o.DiversityRelevance = 2, "Chroma:Recommendations:DiversityRelevance (Chroma__Recommendations__DiversityRelevance) must be between 0 and 1 (got 2)");
        yield return Case("ZeroStrongWindow", o => o.StrongDiversityWindow = 0, "Chroma:Recommendations:StrongDiversityWindow (Chroma__Recommendations__StrongDiversityWindow) must be between 1");
        yield return Case("NegativeStrongRelevance", o => o.StrongDiversityRelevance = -1, "Chroma:Recommendations:StrongDiversityRelevance (Chroma__Recommendations__StrongDiversityRelevance) must be between 0 and 1");
    }

    [TestCaseSource(nameof(BadOptions))]
    public void Validate_BadEngineOption_FailsNamingIt(Action<RecommendationOptions> breakIt, string fragment)
    {
        // Arrange
        var options = new RecommendationOptions();
        breakIt(options);

        // Act
        var problems = ValidatorAssert.Problems(new RecommendationOptionsValidator(), options);

        // Assert
        Assert.That(problems, Does.Contain(fragment));
    }

    [Test]
    public void Validate_Defaults_Succeeds() => ValidatorAssert.Valid(new RecommendationOptionsValidator(), new RecommendationOptions());
}
