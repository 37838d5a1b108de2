using Chroma.Server.Hosting;
using Chroma.Server.Hosting.Internal;

namespace Chroma.Server.Tests.Indexing;

[TestFixture]
public sealed class IndexingOptionsValidationTests
{
    public static IEnumerable<TestCaseData> BadOptions()
    {
        static TestCaseData Case(string name, Action<ChromaServerOptions> breakIt, string fragment) =>
            new TestCaseData(breakIt, fragment).SetName("Validate_" + name + "_Throws");

        yield return Case("NegativeExactSearchThreshold", o => o.IndexExactSearchThreshold = -1, "IndexExactSearchThreshold must be between 0");
        yield return Case("NegativeCatchUpTimeout", o => o.IndexCatchUpTimeout = TimeSpan.FromSeconds(-1), "IndexCatchUpTimeout must be between 0 and 1 minute");
        yield return Case("HourLongCatchUpTimeout", o => o.IndexCatchUpTimeout = TimeSpan.FromHours(1), "IndexCatchUpTimeout must be between 0 and 1 minute");
        yield return Case("SubSecondSaveInterval", o => o.IndexSaveInterval = TimeSpan.FromMilliseconds(10), "IndexSaveInterval must be between 1 second and 1 day");
        yield return Case("TenMillisecondPollInterval", o => o.IndexPollInterval = TimeSpan.FromMilliseconds(10), "IndexPollInterval must be between 100 ms and 1 hour");
        yield return Case("DayLongPollInterval", o => o.IndexPollInterval = TimeSpan.FromDays(1), "IndexPollInterval must be between 100 ms and 1 hour");
        yield return Case("NegativeBuildThreads", o => o.IndexBuildThreads = -1, "IndexBuildThreads must be between 0 and 1024");
        yield return Case("SubSecondCheckpointInterval", o => o.IndexBuildCheckpointInterval = TimeSpan.FromMilliseconds(10), "IndexBuildCheckpointInterval must be between 1 second and 1 day");
    }

    [TestCaseSource(nameof(BadOptions))]
    public void Validate_BadIndexOption_ThrowsArgumentExceptionNamingIt(Action<ChromaServerOptions> breakIt, string fragment)
    {
        // Arrange
        var options = new ChromaServerOptions();
        breakIt(options);

        // Act
        var ex = Assert.Throws<ArgumentException>(() => ChromaServerOptionsValidator.Validate(options));

        // Assert
        Assert.That(ex!.Message, Does.Contain(fragment));
    }

    [Test]
    public void Defaults_AreValidAndDocumented()
    {
        // Arrange
        var options = new ChromaServerOptions();

        // Act + Assert: the defaults the README table and the Indexing README state.
        Assert.Multiple(() =>
        {
            Assert.That(() => ChromaServerOptionsValidator.Validate(options), Throws.Nothing);
            Assert.That(options.IndexExactSearchThreshold, Is.EqualTo(5_000));
            Assert.That(options.IndexCatchUpTimeout, Is.EqualTo(TimeSpan.FromSeconds(2)));
            Assert.That(options.IndexSaveInterval, Is.EqualTo(TimeSpan.FromMinutes(1)));
            Assert.That(options.IndexPollInterval, Is.EqualTo(TimeSpan.FromSeconds(2)));
        });
    }
}
