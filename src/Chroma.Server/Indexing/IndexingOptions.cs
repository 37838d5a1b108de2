namespace Chroma.Server.Indexing;

/// <summary>
/// How the sets' nearest-neighbour indexes are built, kept up to date and saved (section <c>Chroma:Indexing</c>, e.g.
/// <c>Chroma__Indexing__SaveInterval</c>). See src/Chroma.Server/Indexing/README.md.
/// </summary>
public sealed class IndexingOptions
{
    /// <summary>The configuration section, below <c>Chroma</c>.</summary>
    public const string SectionName = "Indexing";

    /// <summary>
    /// Gets or sets the size below which an embedding set is searched exactly (brute force) rather than through its
    /// HNSW graph (0 or more). Small sets get exact answers at no build cost: below 5 000 vectors of 128 floats a scan
    /// takes under about 0.5 ms, small next to a FindNearest call. When a set reaches it, its graph is built in the
    /// background while exact search keeps answering. 0 uses HNSW from the first record. The training-neighbour search
    /// of the recommendation signals uses the same threshold. The default value is 5 000.
    /// </summary>
    public int ExactSearchThreshold { get; set; } = 5_000;

    /// <summary>
    /// Gets or sets how long a nearest-neighbour query waits for the background indexer to apply every batch
    /// acknowledged before the query arrived (read-your-writes, 0 to 1 minute); past it the query answers from what is
    /// indexed. The default value is 2 seconds.
    /// </summary>
    public TimeSpan CatchUpTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Gets or sets how often changed HNSW indexes are saved under <c>{DataDirectory}/indexes</c> (1 second to 1 day;
    /// they are also saved on shutdown); a restart loads them and replays only later records. The default value is 1 minute.
    /// </summary>
    public TimeSpan SaveInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Gets or sets how often the indexes check the store for changes nobody told them about (100 ms to 1 hour): the
    /// fallback for a missed PostgreSQL notice of another server's commit (on SQLite every commit wakes them directly).
    /// A query never depends on it: it reads the set's committed sequence itself and waits for the index. The default
    /// value is 2 seconds.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Gets or sets how many dedicated background threads build, catch up, estimate and save the sets' HNSW indexes
    /// (never thread-pool threads, so serving keeps its threads during a build). On Linux they run at the lowest priority
    /// of the server's threads (nice 10, below scoring and requests), so 0 means one per core there; elsewhere 0 means
    /// one per core but one (at least 1). Allowed range 0..1024. The default value is 0.
    /// </summary>
    public int BuildThreads { get; set; }

    /// <summary>
    /// Gets or sets the least time between two checkpoints of a running HNSW build, saved under
    /// <c>{DataDirectory}/indexes</c> so a restart (even after a crash) resumes the build instead of starting over. A
    /// slow save stretches it so checkpoints cost at most about a tenth of the build. Allowed range 1 second..1 day.
    /// The default value is 30 seconds.
    /// </summary>
    public TimeSpan BuildCheckpointInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets the most floats of a set's vectors that may wait, read from the store but not yet linked into its
    /// HNSW graph, before the index stops reading on and answers queries as behind (<c>index_behind</c>). A set stages a
    /// quarter of its graph's floats, at least 4 Mi (or this, when smaller) and at most this; all of this while its graph
    /// is rebuilt without deleted records (nothing is linked meanwhile) and until that leaves nothing staged. Every search
    /// scans them exactly, so this bounds what a burst of ingest adds to a search (at 128 dimensions 32 Mi floats are 262,144
    /// vectors, scanned in about 9-10 ms on the 2-core test machine) against how large a burst stays searchable at once
    /// while the graph links it (1,000-2,000 records a second at a million 128-d vectors on 2 cores, less while scoring
    /// runs). Allowed range 1 Mi to 1 Gi floats (at least a page of records is staged whatever the width). The default
    /// value is 32 Mi (128 MiB).
    /// </summary>
    public int MaxStagedFloats { get; set; } = 32 * 1024 * 1024;

    /// <summary>Copies these options.</summary>
    internal IndexingOptions Clone() => (IndexingOptions)MemberwiseClone();
}
