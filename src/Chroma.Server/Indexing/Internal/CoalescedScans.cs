namespace Chroma.Server.Indexing.Internal;

/// <summary>
/// Exact searches of one <see cref="BruteForceVectorIndex"/>: up to one pass a core runs at once, each for the query that
/// started it; queries that arrive while every core scans wait and are answered together by the next pass that ends
/// (<c>searchMany</c>: <see cref="BruteForceVectorIndex.SearchMany"/>), which reads the vectors from memory once for all
/// of them. A scan beyond the caches is bound by memory (about 35 ns a 128-d vector, against 13 ns to measure one in
/// cache), so callers that each scanned a staged tail of 262,144 vectors, or a million-record set before its graph,
/// took turns at the memory bus (`exact-scan --callers`, benchmarks README). As many callers as cores scan on their own, as
/// before: one pass on one thread for many queries was slower than two scans on two cores for two callers.
/// </summary>
/// <remarks>
/// When a pass ends and queries wait, the caller that ran it hands the oldest of them (up to <see cref="MaxGroup"/>) to
/// the first of them, which scans for all; otherwise it frees its core's slot. So no caller waits for more than a pass in
/// progress and its own, and none serves others for longer than one pass. A pass that fails answers each of its queries
/// alone, so a query's error reaches its own caller only. Callers hold whatever lock keeps the index unchanged meanwhile
/// (as for a single search).
/// </remarks>
internal sealed class CoalescedScans(Func<IReadOnlyList<ExactQuery>, IReadOnlyList<VectorNeighbor>[]> searchMany, int maxPasses)
{
    /// <summary>The most queries one pass answers.</summary>
    public const int MaxGroup = 32;

    private readonly Lock _lock = new();
    private readonly List<Waiting> _waiting = [];
    private int _passes;

    /// <summary>Creates the scans with one pass at a time for each core.</summary>
    public CoalescedScans(Func<IReadOnlyList<ExactQuery>, IReadOnlyList<VectorNeighbor>[]> searchMany)
        : this(searchMany, Environment.ProcessorCount)
    {
    }

    /// <summary>Gets how many passes answered more than one query (tests and diagnostics).</summary>
    public long SharedPasses { get; private set; }

    /// <summary>Gets how many queries wait for a pass to start (tests).</summary>
    public int WaitingCount
    {
        get
        {
            lock (_lock)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>The exact answer of one query, as <see cref="BruteForceVectorIndex.Search"/> gives it.</summary>
    public IReadOnlyList<VectorNeighbor> Search(ExactQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var me = new Waiting(query);
        Waiting[]? group = null;
        lock (_lock)
        {
            if (_passes < Math.Max(1, maxPasses))
            {
                _passes++;
                group = [me];
            }
            else
            {
                _waiting.Add(me);
            }
        }

        if (group is null)
        {
            if (me.Wait())
            {
                return me.Result ?? throw me.Error!;
            }

            group = me.Group!; // handed a pass: the oldest waiting queries, this one first
        }

        Run(group);
        return me.Result ?? throw me.Error!;
    }

    // Scans for the group, answers it, and hands the pass's slot to the oldest waiting queries (or frees it).
    private void Run(Waiting[] group)
    {
        try
        {
            var results = searchMany([.. group.Select(w => w.Query)]);
            for (var i = 0; i < group.Length; i++)
            {
                group[i].Result = results[i];
            }
        }
#pragma warning disable CA1031 // Rethrown on the caller's own thread.
        catch (Exception) when (group.Length > 1)
        {
            // One query's fault (an unknown width, a vector with no direction under cosine) is not the others': each
            // is searched alone, and only the failing ones get their error.
            foreach (var waiting in group)
            {
                RunAlone(waiting);
            }
        }
        catch (Exception ex)
#pragma warning restore CA1031
        {
            group[0].Error = ex;
        }

        Waiting[]? next = null;
        lock (_lock)
        {
            if (group.Length > 1)
            {
                SharedPasses++;
            }

            if (_waiting.Count > 0)
            {
                next = [.. _waiting.Take(MaxGroup)];
                _waiting.RemoveRange(0, next.Length);
            }
            else
            {
                _passes--;
            }
        }

        foreach (var waiting in group)
        {
            waiting.Wake(answered: true);
        }

        if (next is not null)
        {
            next[0].Group = next;
            next[0].Wake(answered: false); // it runs the next pass, for all of them
        }
    }

    private void RunAlone(Waiting waiting)
    {
        try
        {
            waiting.Result = searchMany([waiting.Query])[0];
        }
#pragma warning disable CA1031 // Rethrown on the caller's own thread.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            waiting.Error = ex;
        }
    }

    private sealed class Waiting(ExactQuery query)
    {
        private readonly object _gate = new();
        private bool _woken;
        private bool _answered;

        public ExactQuery Query { get; } = query;

        public IReadOnlyList<VectorNeighbor>? Result { get; set; }

        public Exception? Error { get; set; }

        /// <summary>Gets or sets the queries this one runs a pass for, when it was handed one.</summary>
        public Waiting[]? Group { get; set; }

        /// <summary>Blocks until woken; true when answered, false when handed a pass to run.</summary>
        public bool Wait()
        {
            lock (_gate)
            {
                while (!_woken)
                {
                    Monitor.Wait(_gate);
                }

                return _answered;
            }
        }

        public void Wake(bool answered)
        {
            lock (_gate)
            {
                (_woken, _answered) = (true, answered);
                Monitor.Pulse(_gate);
            }
        }
    }
}
