using System.Collections.Concurrent;
using Chroma.Server.Background;

namespace Chroma.Server.Tests.Background;

/// <summary>
/// The bounded background-work limiter, driven step by step: chunk bodies block on gates the test
/// opens, so every assertion is about what ran, never about how long it took.
/// </summary>
[TestFixture]
public sealed class BackgroundWorkLimiterTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(20);

    [Test, CancelAfter(30_000)]
    public async Task RunAsync_JobDoneAndWorkerIdle_NothingTheJobCapturedIsKept(CancellationToken cancellationToken)
    {
        // Arrange: one worker, one job that captures an array.
        using var limiter = new BackgroundWorkLimiter(1, "test-retention");
        var captured = RunJobCapturing(limiter);

        // Act: the worker now waits for its next item; collect until the array goes (or give up).
        for (var i = 0; i < 20 && captured.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            await Task.Delay(10, cancellationToken);
        }

        // Assert: an idle worker holds no finished job (a set's score rows read back at start stayed alive this way).
        Assert.That(captured.IsAlive, Is.False);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference RunJobCapturing(BackgroundWorkLimiter limiter)
    {
        var rows = new byte[1 << 20];
        limiter.RunAsync(() => rows.Length).GetAwaiter().GetResult();
        return new WeakReference(rows);
    }

    [Test, CancelAfter(30_000)]
    public async Task For_MoreChunksThanThreads_RunsAtMostTheDegreeAtOnceAndEveryIndexOnce(CancellationToken cancellationToken)
    {
        // Arrange: degree 3, 10 chunks of 4 indices, each chunk held until the test releases one.
        using var limiter = new BackgroundWorkLimiter(3, "test-bound");
        using var release = new SemaphoreSlim(0);
        using var entered = new SemaphoreSlim(0);
        var running = 0;
        var maxRunning = 0;
        var visits = new int[40];

        // Act
        var loop = Task.Run(() => limiter.For(0, 40, 4, (start, end) =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref maxRunning, now);
            entered.Release();
            release.Wait(Step);
            for (var i = start; i < end; i++)
            {
                Interlocked.Increment(ref visits[i]);
            }

            Interlocked.Decrement(ref running);
        }), cancellationToken);
        for (var i = 0; i < 3; i++)
        {
            Assert.That(await entered.WaitAsync(Step, cancellationToken), Is.True, "three chunks start");
        }

        var runningWithAllThreadsHeld = Volatile.Read(ref running);
        release.Release(10);
        await loop.WaitAsync(Step, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(runningWithAllThreadsHeld, Is.EqualTo(3), "the caller and two dedicated threads");
            Assert.That(maxRunning, Is.EqualTo(3));
            Assert.That(visits, Is.All.EqualTo(1));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task For_ChunkSizeNotDividingTheRange_PassesExactChunkBounds(CancellationToken cancellationToken)
    {
        using var limiter = new BackgroundWorkLimiter(1, "test-bounds");
        var chunks = new ConcurrentQueue<(int Start, int End)>();

        await Task.Run(() => limiter.For(5, 16, 4, (start, end) => chunks.Enqueue((start, end))), cancellationToken).WaitAsync(Step, cancellationToken);

        Assert.That(chunks.OrderBy(c => c.Start), Is.EqualTo(new[] { (5, 9), (9, 13), (13, 16) }));
    }

    [Test, CancelAfter(30_000)]
    public async Task RunAsync_Job_RunsOnANamedDedicatedThreadNotThePool(CancellationToken cancellationToken)
    {
        using var limiter = new BackgroundWorkLimiter(2, "test-threads");

        var (name, poolThread, isWorker) = await limiter.RunAsync(
            () => (Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread, limiter.IsWorkerThread),
            cancellationToken).WaitAsync(Step, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(name, Does.StartWith("test-threads-"));
            Assert.That(poolThread, Is.False);
            Assert.That(isWorker, Is.True);
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task RunAsync_EveryThreadBusy_ThreadPoolWorkStillRuns(CancellationToken cancellationToken)
    {
        // Arrange: both dedicated threads blocked in jobs, as during a long scoring pass.
        using var limiter = new BackgroundWorkLimiter(2, "test-pool");
        using var release = new ManualResetEventSlim();
        using var started = new CountdownEvent(2);
        var jobs = Enumerable.Range(0, 2).Select(_ => limiter.RunAsync(() =>
        {
            started.Signal();
            release.Wait(Step);
        }, cancellationToken)).ToArray();
        Assert.That(started.Wait(Step, cancellationToken), Is.True);

        // Act: what a request would do meanwhile.
        var answer = await Task.Run(() => 42, cancellationToken).WaitAsync(Step, cancellationToken);
        var busy = limiter.BusyThreads;
        release.Set();
        await Task.WhenAll(jobs).WaitAsync(Step, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(answer, Is.EqualTo(42));
            Assert.That(busy, Is.EqualTo(2));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task RunAsync_DegreeOne_RunsJobsOneAtATimeInOrder(CancellationToken cancellationToken)
    {
        using var limiter = new BackgroundWorkLimiter(1, "test-order");
        var order = new ConcurrentQueue<int>();
        var running = 0;
        var overlapped = false;

        var jobs = Enumerable.Range(0, 5).Select(i => limiter.RunAsync(() =>
        {
            overlapped |= Interlocked.Increment(ref running) > 1;
            order.Enqueue(i);
            Interlocked.Decrement(ref running);
        }, cancellationToken)).ToArray();
        await Task.WhenAll(jobs).WaitAsync(Step, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(order, Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));
            Assert.That(overlapped, Is.False);
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task For_NestedInsideAJobOnEveryThread_CompletesWithoutDeadlock(CancellationToken cancellationToken)
    {
        // Every dedicated thread runs a job whose loop asks for helpers that can never start: the callers do the chunks.
        using var limiter = new BackgroundWorkLimiter(2, "test-nested");
        var sums = new long[2];

        var jobs = Enumerable.Range(0, 2).Select(j => limiter.RunAsync(() =>
            limiter.For(0, 1000, 10, (start, end) =>
            {
                for (var i = start; i < end; i++)
                {
                    Interlocked.Add(ref sums[j], i);
                }
            }), cancellationToken)).ToArray();
        await Task.WhenAll(jobs).WaitAsync(Step, cancellationToken);

        Assert.That(sums, Is.All.EqualTo(999 * 1000 / 2));
    }

    [Test, CancelAfter(30_000)]
    public async Task For_ChunkThrows_RethrowsOnTheCallerAndStartsNoFurtherChunk(CancellationToken cancellationToken)
    {
        using var limiter = new BackgroundWorkLimiter(1, "test-throw");
        var ran = new ConcurrentQueue<int>();

        var call = Task.Run(() => limiter.For(0, 10, 1, (start, _) =>
        {
            ran.Enqueue(start);
            if (start == 3)
            {
                throw new InvalidDataException("chunk 3");
            }
        }), cancellationToken);

        Assert.That(async () => await call.WaitAsync(Step, cancellationToken), Throws.InstanceOf<InvalidDataException>().With.Message.EqualTo("chunk 3"));
        Assert.That(ran, Is.EqualTo(new[] { 0, 1, 2, 3 }), "degree 1: the caller alone, in order, stopping at the failure");
    }

    [Test, CancelAfter(30_000)]
    public async Task For_CancelledBetweenChunks_StopsAndThrowsOperationCanceled(CancellationToken cancellationToken)
    {
        using var limiter = new BackgroundWorkLimiter(1, "test-cancel");
        using var cancel = new CancellationTokenSource();
        var ran = 0;

        var call = Task.Run(() => limiter.For(0, 100, 1, (_, _) =>
        {
            if (Interlocked.Increment(ref ran) == 5)
            {
                cancel.Cancel();
            }
        }, cancel.Token), cancellationToken);

        Assert.That(async () => await call.WaitAsync(Step, cancellationToken), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(ran, Is.EqualTo(5));
    }

    [Test, CancelAfter(30_000)]
    public async Task For_AfterDispose_RunsOnTheCallingThreadAlone(CancellationToken cancellationToken)
    {
        var limiter = new BackgroundWorkLimiter(3, "test-disposed");
        limiter.Dispose();
        var threads = new ConcurrentDictionary<int, bool>();

        await Task.Run(() => limiter.For(0, 64, 1, (_, _) => threads[Environment.CurrentManagedThreadId] = true), cancellationToken).WaitAsync(Step, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(threads, Has.Count.EqualTo(1));
            Assert.That(() => limiter.RunAsync(() => 1, cancellationToken), Throws.InstanceOf<ObjectDisposedException>());
        });
    }

    [Test]
    public void Constructor_DegreeBelowOne_ThrowsNamingIt()
    {
        Assert.That(() => new BackgroundWorkLimiter(0), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("degreeOfParallelism"));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
