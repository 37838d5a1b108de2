using Chroma.Server.Background;
using Chroma.Server.Background.Internal;
using Chroma.Server.Indexing.Internal;

namespace Chroma.Server.Tests.Background;

/// <summary>
/// The background threads' operating-system priority, read back from the kernel on the threads themselves: scoring
/// below requests, index builds below scoring. A process that already runs niced keeps its background threads at
/// least as low (even as root, who could raise them), so the expectation is the larger of the two.
/// </summary>
[TestFixture]
public sealed class BackgroundThreadPriorityTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Test]
    public async Task LimiterThreads_WithNice_RunJobsAtThatPriority()
    {
        var callerNice = BackgroundThreadPriority.CurrentThreadNice();
        using var limiter = new BackgroundWorkLimiter(2, "test-nice", BackgroundThreadPriority.Scoring);

        var jobNice = await limiter.RunAsync(BackgroundThreadPriority.CurrentThreadNice).WaitAsync(Timeout);

        if (!BackgroundThreadPriority.IsSupported)
        {
            Assert.That(jobNice, Is.Null);
            return;
        }

        Assert.That(jobNice, Is.EqualTo(Math.Max(BackgroundThreadPriority.Scoring, callerNice!.Value)));
        Assert.That(BackgroundThreadPriority.CurrentThreadNice(), Is.EqualTo(callerNice), "the caller's own thread is left as it was");
    }

    [Test]
    public async Task LimiterThreads_WithoutNice_KeepTheProcessPriority()
    {
        var callerNice = BackgroundThreadPriority.CurrentThreadNice();
        using var limiter = new BackgroundWorkLimiter(1, "test-normal");

        var jobNice = await limiter.RunAsync(BackgroundThreadPriority.CurrentThreadNice).WaitAsync(Timeout);

        Assert.That(jobNice, Is.EqualTo(callerNice));
    }

    [Test]
    public async Task IndexBuildThreads_RunBelowScoring()
    {
        var callerNice = BackgroundThreadPriority.CurrentThreadNice();
        using var threads = new IndexBuildThreads(2);

        var nices = new int?[2];
        await threads.ForAsync(2, i => nices[i] = BackgroundThreadPriority.CurrentThreadNice()).WaitAsync(Timeout);

        if (!BackgroundThreadPriority.IsSupported)
        {
            Assert.That(nices, Is.All.Null);
            return;
        }

        Assert.That(nices, Is.All.EqualTo(Math.Max(BackgroundThreadPriority.IndexBuild, callerNice!.Value)));
        Assert.That(BackgroundThreadPriority.IndexBuild, Is.GreaterThan(BackgroundThreadPriority.Scoring));
    }

    [Test]
    public void LowerCurrentThread_OutsideNiceRange_Throws()
    {
        Assert.That(() => BackgroundThreadPriority.LowerCurrentThread(-1), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => BackgroundThreadPriority.LowerCurrentThread(20), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => new BackgroundWorkLimiter(1, "bad", nice: 20), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
