using System.Collections.Concurrent;
using Chroma.Server.Background.Internal;

namespace Chroma.Server.Indexing.Internal;

/// <summary>
/// A fixed number of dedicated background threads for index work (graph builds, large catch-up batches,
/// recall estimates, saves). Heavy CPU work runs here instead of on the shared thread pool, so health checks,
/// ingest acknowledgements and queries keep their threads while an index builds (and, on Linux, their priority:
/// these threads run at nice <see cref="BackgroundThreadPriority.IndexBuild"/>); callers await a task and
/// block nothing. Work items queue in order; a loop over many items is cut into chunks that every thread takes
/// from, so one build uses all the threads and two builds share them.
/// </summary>
internal sealed class IndexBuildThreads : IDisposable
{
    private const int MaxChunk = 64;

    private readonly BlockingCollection<Chunk> _queue = new(new ConcurrentQueue<Chunk>());
    private readonly Thread[] _threads;

    /// <summary>Starts <paramref name="count"/> background threads (at least 1).</summary>
    public IndexBuildThreads(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        _threads = new Thread[count];
        for (var i = 0; i < count; i++)
        {
            _threads[i] = new Thread(Run) { IsBackground = true, Name = $"chroma-index-{i}" };
            _threads[i].Start();
        }
    }

    /// <summary>Gets how many threads run index work.</summary>
    public int Count => _threads.Length;

    /// <summary>
    /// The default thread count: every core where the threads' priority can be lowered below requests and scoring
    /// (Linux), else one core is left to serving (cores - 1, at least 1).
    /// </summary>
    public static int DefaultCount => BackgroundThreadPriority.IsSupported ? Environment.ProcessorCount : Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>Runs <paramref name="body"/> for every i in [0, <paramref name="count"/>) on the threads; completes when all ran.</summary>
    /// <remarks>The first exception fails the task and skips the chunks not yet started; cancellation does the same.</remarks>
    public Task ForAsync(int count, Action<int> body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (count <= 0)
        {
            return Task.CompletedTask;
        }

        // Chunks small enough that every thread gets work, large enough that queueing costs nothing.
        var size = Math.Clamp(count / (_threads.Length * 8), 1, MaxChunk);
        var job = new Job(body, (count + size - 1) / size, cancellationToken);
        for (var start = 0; start < count; start += size)
        {
            _queue.Add(new Chunk(job, start, Math.Min(count, start + size)), CancellationToken.None);
        }

        return job.Completion;
    }

    /// <summary>Runs <paramref name="action"/> once on one of the threads.</summary>
    public Task RunAsync(Action action, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(action);
        return ForAsync(1, _ => action(), cancellationToken);
    }

    /// <summary>Runs <paramref name="function"/> once on one of the threads and returns its result.</summary>
    public async Task<T> RunAsync<T>(Func<T> function, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(function);
        T result = default!;
        await ForAsync(1, _ => result = function(), cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>Lets queued work finish and stops the threads.</summary>
    public void Dispose()
    {
        _queue.CompleteAdding();
        foreach (var thread in _threads)
        {
            thread.Join();
        }

        _queue.Dispose();
    }

    private void Run()
    {
        // Below requests and scoring: a build takes the cores they leave (queries answer exactly meanwhile).
        BackgroundThreadPriority.LowerCurrentThread(BackgroundThreadPriority.IndexBuild);
        foreach (var chunk in _queue.GetConsumingEnumerable())
        {
            chunk.Job.Execute(chunk.Start, chunk.End);
        }
    }

    private readonly record struct Chunk(Job Job, int Start, int End);

    private sealed class Job(Action<int> body, int chunks, CancellationToken cancellationToken)
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _remaining = chunks;
        private Exception? _error;

        public Task Completion => _done.Task;

        public void Execute(int start, int end)
        {
            try
            {
                if (Volatile.Read(ref _error) is null)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    for (var i = start; i < end; i++)
                    {
                        body(i);
                    }
                }
            }
#pragma warning disable CA1031 // Handed to the awaiting caller, never lost: the thread must live on for other jobs.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Interlocked.CompareExchange(ref _error, ex, null);
            }

            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                switch (_error)
                {
                    case null:
                        _done.TrySetResult();
                        break;
                    case OperationCanceledException canceled:
                        _done.TrySetCanceled(canceled.CancellationToken);
                        break;
                    default:
                        _done.TrySetException(_error);
                        break;
                }
            }
        }
    }
}
