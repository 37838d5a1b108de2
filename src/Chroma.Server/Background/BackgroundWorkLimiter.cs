using System.Collections.Concurrent;
using Chroma.Server.Background.Internal;

namespace Chroma.Server.Background;

/// <summary>
/// Bounded parallelism for the server's CPU-heavy background work (scoring passes, index builds): a
/// fixed set of dedicated threads, never thread-pool threads, so a long pass cannot starve the pool
/// that serves health checks, ingest acks and queries.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="RunAsync{T}"/> queues a whole job (a pass, a build) onto the dedicated threads, first in
/// first out. <see cref="For"/> splits a loop into chunks: the calling thread works on the chunks
/// itself, and up to <see cref="DegreeOfParallelism"/> - 1 dedicated threads join it when they are
/// free. A caller never waits for a helper that has not started, so a loop nested in a job (a fit
/// inside a pass) cannot deadlock, and a loop called from a dedicated thread uses no thread beyond
/// the limit. Chunks of concurrent loops (scoring and indexing) queue behind each other, so neither
/// monopolises the threads for longer than one chunk.
/// </para>
/// <para>
/// The threads are background threads: they never keep the process alive. <see cref="Dispose"/> stops
/// taking jobs; a loop started afterwards runs on its calling thread alone.
/// </para>
/// </remarks>
internal sealed class BackgroundWorkLimiter : IDisposable
{
    private static readonly Lazy<BackgroundWorkLimiter> SharedInstance = new(() => new BackgroundWorkLimiter(DefaultDegreeOfParallelism, "chroma-shared"));

    [ThreadStatic]
    private static BackgroundWorkLimiter? _currentOwner;

    private readonly BlockingCollection<Action> _queue = [];
    private readonly int _nice;
    private int _busyThreads;
    private long _completedItems;

    /// <summary>Starts <paramref name="degreeOfParallelism"/> dedicated threads named <paramref name="name"/>.</summary>
    /// <param name="degreeOfParallelism">At least 1: the most threads that run this limiter's work at once.</param>
    /// <param name="name">Thread name prefix (shows in dumps and profilers).</param>
    /// <param name="nice">The threads' operating-system nice value (0 = normal priority, up to 19; see
    /// <see cref="BackgroundThreadPriority"/>): the server runs scoring at <see cref="BackgroundThreadPriority.Scoring"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="degreeOfParallelism"/> is below 1, or <paramref name="nice"/> outside 0..19.</exception>
    public BackgroundWorkLimiter(int degreeOfParallelism, string name = "chroma-background", int nice = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(degreeOfParallelism, 1);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfNegative(nice);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nice, 19);
        DegreeOfParallelism = degreeOfParallelism;
        _nice = nice;
        for (var i = 0; i < degreeOfParallelism; i++)
        {
            new Thread(Work) { IsBackground = true, Name = $"{name}-{i}" }.Start();
        }
    }

    /// <summary>Gets the default degree: one core less than the machine has (so requests keep one), at least 1.</summary>
    public static int DefaultDegreeOfParallelism => Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>
    /// Gets the server's default degree for its scoring threads: every core where their priority can be lowered below
    /// requests (Linux: requests take a core whenever they need one), else <see cref="DefaultDegreeOfParallelism"/>.
    /// </summary>
    public static int DefaultServerDegreeOfParallelism =>
        BackgroundThreadPriority.IsSupported ? Environment.ProcessorCount : DefaultDegreeOfParallelism;

    /// <summary>
    /// Gets a process-wide limiter with <see cref="DefaultDegreeOfParallelism"/> threads, used by the engine
    /// when its caller passes none (tests, tools); the server passes its own.
    /// </summary>
    public static BackgroundWorkLimiter Shared => SharedInstance.Value;

    /// <summary>Gets the most threads that run this limiter's work at once.</summary>
    public int DegreeOfParallelism { get; }

    /// <summary>Gets how many dedicated threads are running a job or a chunk right now.</summary>
    public int BusyThreads => Volatile.Read(ref _busyThreads);

    /// <summary>Gets how many jobs and loop helpers the dedicated threads have finished.</summary>
    public long CompletedItems => Interlocked.Read(ref _completedItems);

    /// <summary>Gets whether the current thread is one of this limiter's dedicated threads.</summary>
    public bool IsWorkerThread => ReferenceEquals(_currentOwner, this);

    /// <summary>Runs <paramref name="job"/> on a dedicated thread, after the jobs queued before it.</summary>
    /// <exception cref="ObjectDisposedException">The limiter was disposed.</exception>
    public Task<T> RunAsync<T>(Func<T> job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(() =>
        {
            if (cancellationToken.IsCancellationRequested)
            {
                completion.TrySetCanceled(cancellationToken);
                return;
            }

            try
            {
                completion.TrySetResult(job());
            }
            catch (OperationCanceledException ex) when (ex.CancellationToken == cancellationToken && cancellationToken.IsCancellationRequested)
            {
                completion.TrySetCanceled(cancellationToken);
            }
#pragma warning disable CA1031 // The job's exception belongs to its caller, through the task.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                completion.TrySetException(ex);
            }
        });
        return completion.Task;
    }

    /// <summary>Runs <paramref name="job"/> on a dedicated thread, after the jobs queued before it.</summary>
    /// <exception cref="ObjectDisposedException">The limiter was disposed.</exception>
    public Task RunAsync(Action job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        return RunAsync(() =>
        {
            job();
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="body"/> over <c>[fromInclusive, toExclusive)</c> in chunks of at most
    /// <paramref name="chunkSize"/> indices (<c>body(start, end)</c>, end exclusive), on the calling
    /// thread and up to <see cref="DegreeOfParallelism"/> - 1 dedicated threads; returns when every
    /// chunk has run. The first exception stops further chunks and is rethrown here.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (chunks already running finish first).</exception>
    public void For(int fromInclusive, int toExclusive, int chunkSize, Action<int, int> body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        if (toExclusive <= fromInclusive)
        {
            return;
        }

        var loop = new ChunkedLoop(fromInclusive, toExclusive, chunkSize, body, cancellationToken);
        var helpers = (int)Math.Min(DegreeOfParallelism - 1L, loop.ChunkCount - 1L);
        for (var i = 0; i < helpers && TryEnqueue(loop.Help); i++)
        {
        }

        loop.RunOnCallingThread();
    }

    /// <summary>Stops taking work; the dedicated threads end once the queued work is done.</summary>
    public void Dispose() => _queue.CompleteAdding();

    private void Enqueue(Action item)
    {
        var queued = TryEnqueue(item);
        ObjectDisposedException.ThrowIf(!queued, this);
    }

    private bool TryEnqueue(Action item)
    {
        try
        {
            return _queue.TryAdd(item);
        }
        catch (InvalidOperationException)
        {
            // Disposed (adding completed).
            return false;
        }
    }

    private void Work()
    {
        _currentOwner = this;
        if (_nice > 0)
        {
            BackgroundThreadPriority.LowerCurrentThread(_nice);
        }

        // Not foreach over GetConsumingEnumerable: its enumerator keeps the last item as Current while the thread waits
        // for the next, and with it everything the job captured (after a restart, a set's stored score rows: 450 MiB at
        // 200,000 records, kept for as long as the server stayed idle). Each item is taken and run in a frame of its own,
        // gone before the wait for the next.
        while (RunNext())
        {
        }
    }

    private bool RunNext()
    {
        Action item;
        try
        {
            item = _queue.Take();
        }
        catch (InvalidOperationException)
        {
            return false; // disposed and drained
        }

        Interlocked.Increment(ref _busyThreads);
        try
        {
            // Items catch their own exceptions (jobs complete their task, loops record the failure).
            item();
        }
        finally
        {
            Interlocked.Decrement(ref _busyThreads);
            Interlocked.Increment(ref _completedItems);
        }

        return true;
    }
}
