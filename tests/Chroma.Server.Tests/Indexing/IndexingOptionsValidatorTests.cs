using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Internal;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Indexing;

[TestFixture]
public sealed class IndexingOptionsValidatorTests
{
    public static IEnumerable<TestCaseData> BadOptions()
    {
        static TestCaseData Case(string name, Action<IndexingOptions> breakIt, string fragment) =>
            new TestCaseData(breakIt, fragment).SetName("Validate_" + name + "_FailsNamingTheSetting");

        yield return Case("NegativeExactSearchThreshold", o => o.ExactSearchThreshold = -1, "Chroma:Indexing:ExactSearchThreshold (Chroma__Indexing__ExactSearchThreshold) must be between 0");
        yield return Case("NegativeCatchUpTimeout", o => o.CatchUpTimeout = TimeSpan.FromSeconds(-1), "Chroma:Indexing:CatchUpTimeout (Chroma__Indexing__CatchUpTimeout) must be between 0 and 1 minute");
        yield return Case("HourLongCatchUpTimeout", o => o.CatchUpTimeout = TimeSpan.FromHours(1), "Chroma:Indexing:CatchUpTimeout (Chroma__Indexing__CatchUpTimeout) must be between 0 and 1 minute");
        yield return Case("SubSecondSaveInterval", o => o.SaveInterval = TimeSpan.FromMilliseconds(10), "Chroma:Indexing:SaveInterval (Chroma__Indexing__SaveInterval) must be between 1 second and 1 day");
        yield return Case("TenMillisecondPollInterval", o => o.PollInterval = TimeSpan.FromMilliseconds(10), "Chroma:Indexing:PollInterval (Chroma__Indexing__PollInterval) must be between 100 ms and 1 hour");
        yield return Case("DayLongPollInterval", o => o.PollInterval = TimeSpan.FromDays(1), "Chroma:Indexing:PollInterval (Chroma__Indexing__PollInterval) must be between 100 ms and 1 hour");
        yield return Case("NegativeBuildThreads", o => o.BuildThreads = -1, "Chroma:Indexing:BuildThreads (Chroma__Indexing__BuildThreads) must be between 0 and 1024");
        yield return Case("TinyStagedTail", o => o.MaxStagedFloats = 1_000, "Chroma:Indexing:MaxStagedFloats (Chroma__Indexing__MaxStagedFloats) must be between 1048576 and 1073741824");
        yield return Case("NegativeStagedTail", o => o.MaxStagedFloats = -1, "Chroma:Indexing:MaxStagedFloats (Chroma__Indexing__MaxStagedFloats) must be between 1048576");
        yield return Case("SubSecondCheckpointInterval", o => o.BuildCheckpointInterval = TimeSpan.FromMilliseconds(10), "Chroma:Indexing:BuildCheckpointInterval (Chroma__Indexing__BuildCheckpointInterval) must be between 1 second and 1 day");
    }

    [TestCaseSource(nameof(BadOptions))]
    public void Validate_BadIndexOption_FailsNamingIt(Action<IndexingOptions> breakIt, string fragment)
    {
        // Arrange
        var options = new IndexingOptions();
        breakIt(options);

        // Act
        var problems = ValidatorAssert.Problems(new IndexingOptionsValidator(), options);

        // Assert
        Assert.That(problems, Does.Contain(fragment));
    }

    [Test]
    public void Defaults_AreValidAndDocumented()
    {
        // Arrange
        var options = new IndexingOptions();

        // Act + Assert: the defaults the README table and the Indexing README state.
        Assert.Multiple(() =>
        {
            ValidatorAssert.Valid(new IndexingOptionsValidator(), options);
            Assert.That(options.ExactSearchThreshold, Is.EqualTo(5_000));
            Assert.That(options.CatchUpTimeout, Is.EqualTo(TimeSpan.FromSeconds(2)));
            Assert.That(options.SaveInterval, Is.EqualTo(TimeSpan.FromMinutes(1)));
            Assert.That(options.PollInterval, Is.EqualTo(TimeSpan.FromSeconds(2)));
            Assert.That(options.BuildThreads, Is.Zero);
            Assert.That(options.BuildCheckpointInterval, Is.EqualTo(TimeSpan.FromSeconds(30)));
            Assert.That(options.MaxStagedFloats, Is.EqualTo(32 * 1024 * 1024));
        });
    }
}
