using Chroma.Server.Retention;
using Chroma.Server.Retention.Internal;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Retention;

[TestFixture]
public sealed class RetentionOptionsValidatorTests
{
    public static IEnumerable<TestCaseData> BadOptions()
    {
        static TestCaseData Case(string name, Action<RetentionOptions> breakIt, string fragment) =>
            new TestCaseData(breakIt, fragment).SetName("Validate_" + name + "_FailsNamingTheSetting");

        yield return Case("RetentionRuleWithoutSet", o => o.Rules.Add(new() { Dataset = "production", MaxAge = TimeSpan.FromDays(30) }),
            "Chroma:Retention:Rules:0:Set (Chroma__Retention__Rules__0__Set) must name an embedding set id, or \"*\" for every set");
        yield return Case("RetentionRuleWithoutDataset", o => o.Rules.Add(new() { Set = "*", MaxAge = TimeSpan.FromDays(30) }),
            "Chroma:Retention:Rules:0:Dataset (Chroma__Retention__Rules__0__Dataset) must name a dataset");
        yield return Case("RetentionRuleWithoutAge", o => o.Rules.Add(new() { Set = "*", Dataset = "production" }),
            "Chroma:Retention:Rules:0:MaxAge (Chroma__Retention__Rules__0__MaxAge) must be between 1 minute and 100 years, e.g. 30.00:00:00 for 30 days (got 00:00:00)");
        yield return Case("RetentionRuleTwice", o =>
            {
                o.Rules.Add(new() { Set = "*", Dataset = "production", MaxAge = TimeSpan.FromDays(30) });
                o.Rules.Add(new() { Set = "*", Dataset = "production", MaxAge = TimeSpan.FromDays(7) });
            },
            "Chroma:Retention:Rules:1 (Chroma__Retention__Rules__1) repeats the rule for set \"*\" and dataset \"production\"");
        yield return Case("ZeroRetentionBatch", o => o.BatchSize = 0, "Chroma:Retention:BatchSize (Chroma__Retention__BatchSize) must be between 1 and 100000 (got 0)");
        yield return Case("SubSecondInterval", o => o.Interval = TimeSpan.FromMilliseconds(10), "Chroma:Retention:Interval (Chroma__Retention__Interval) must be between 1 second and 1 day");
    }

    [TestCaseSource(nameof(BadOptions))]
    public void Validate_BadRetentionOption_FailsNamingIt(Action<RetentionOptions> breakIt, string fragment)
    {
        // Arrange
        var options = new RetentionOptions();
        breakIt(options);

        // Act
        var problems = ValidatorAssert.Problems(new RetentionOptionsValidator(), options);

        // Assert
        Assert.That(problems, Does.Contain(fragment));
    }

    [Test]
    public void Validate_DefaultsAndOneGoodRule_Succeed()
    {
        ValidatorAssert.Valid(new RetentionOptionsValidator(), new RetentionOptions());
        ValidatorAssert.Valid(new RetentionOptionsValidator(), new RetentionOptions { Rules = { new() { Set = "*", Dataset = "production", MaxAge = TimeSpan.FromDays(30) } } });
    }
}
