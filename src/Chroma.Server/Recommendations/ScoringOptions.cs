namespace Chroma.Server.Recommendations;

/// <summary>
/// When sets are scored and on which threads (section <c>Chroma:Scoring</c>, e.g. <c>Chroma__Scoring__Debounce</c>),
/// and how server replicas sharing one PostgreSQL database divide the scoring. Exactly one replica scores a set at a
/// time: it holds the set's scoring lease, renews it while it works, and every other replica serves the ranking it
/// stored. On SQLite the one server always holds every lease and <see cref="LeaseDuration"/> and
/// <see cref="ChangePollInterval"/> change nothing.
/// </summary>
public sealed class ScoringOptions
{
    /// <summary>The configuration section, below <c>Chroma</c>.</summary>
    public const string SectionName = "Scoring";

    /// <summary>
    /// Gets or sets how long a set must be quiet (no committed ingest or delete) before the background worker scores its
    /// new records (0 to 1 hour). The default value is 500 milliseconds.
    /// </summary>
    public TimeSpan Debounce { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Gets or sets the longest a set waits for a scoring pass after its first unscored change, so a steady stream that
    /// is never quiet still gets fresh scores (at least <see cref="Debounce"/>, at most 1 hour); a failed pass runs again
    /// after it. The default value is 5 seconds.
    /// </summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how many dedicated threads run CPU-heavy background work (scoring passes: fit, scoring, drift),
    /// split into short chunks so health checks, ingest acks and queries keep their latency on the thread pool
    /// meanwhile (0..1024). On Linux these threads run at a lower priority than requests (nice 5) and a higher one than
    /// index builds (nice 10), so 0 uses one thread per core there; elsewhere 0 uses one thread less than the machine has
    /// cores, at least 1. The default value is 0.
    /// </summary>
    public int Threads { get; set; }

    /// <summary>
    /// Gets or sets how many sets are scored at once (1..64), each set by one pass at a time, their work sharing the
    /// <see cref="Threads"/>: a long pass (a wide set's fit, a large set's first pass after a training change) then no
    /// longer holds up the rankings of every other set. Once all but one of them run passes of slow sets (a set whose
    /// last pass took 5 seconds or more, or a pass running that long), the last one is kept for the other sets. With
    /// fewer than two <see cref="Threads"/> the passes still take turns on the one thread. The default value is 2.
    /// </summary>
    public int ConcurrentPasses { get; set; } = 2;

    /// <summary>
    /// Gets or sets how long a set's scoring lease lasts unless renewed (1 second to 1 hour). A replica renews it
    /// every third of this while it holds the set; when the holder dies, another replica takes the set over after at
    /// most this long (plus <see cref="ChangePollInterval"/>). The default value is 15 seconds.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Gets or sets how often a replica reads every set's latest sequence, last change and stored-ranking revision
    /// from the shared database (50 ms to 1 minute, at most a third of <see cref="LeaseDuration"/>). Replicas first hear
    /// of records committed, rankings published and requests waiting through PostgreSQL <c>LISTEN</c>/<c>NOTIFY</c>
    /// (channels <c>chroma_record_changes</c> and <c>chroma_scoring</c>), which wake them at once; this poll is the fallback
    /// that catches what a notice missed (a notice sent while a listener reconnects is lost). A GetRecommendations
    /// that waits for what was acknowledged makes its replica read at once, and every 200 ms (or this interval, when
    /// shorter) while it waits. The default value is 1 second.
    /// </summary>
    public TimeSpan ChangePollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets whether a server that stops cleanly saves each set's ranking to a file of its data directory
    /// (<c>rankings/</c>), so its next start serves it at once instead of reading every stored score back from the
    /// database first (1.44 million scored records: about 30 s read back, a few seconds from the file; the ranking is
    /// empty and stale meanwhile). A file is used only when no record of its set was stored or deleted since it was
    /// written, and is removed when read; anything else reads the database as before. Only where one server owns its
    /// database (SQLite): replicas on one PostgreSQL database read the shared ranking. The default value is
    /// <see langword="true"/>.
    /// </summary>
    public bool SaveRankingOnStop { get; set; } = true;

    /// <summary>Copies these options.</summary>
    internal ScoringOptions Clone() => (ScoringOptions)MemberwiseClone();
}
