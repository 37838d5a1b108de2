namespace Chroma.Server.Recommendations;

/// <summary>
/// How server replicas sharing one PostgreSQL database divide the scoring (section <c>Chroma:Scoring</c>, e.g.
/// <c>Chroma__Scoring__LeaseDuration</c>). Exactly one replica scores a set at a time: it holds the set's scoring
/// lease, renews it while it works, and every other replica serves the ranking it stored. On SQLite the one server
/// always holds every lease and these settings change nothing.
/// </summary>
public sealed class ScoringOptions
{
    /// <summary>The configuration section, below <c>Chroma</c>.</summary>
    public const string SectionName = "Scoring";

    /// <summary>
    /// Gets or sets how long a set's scoring lease lasts unless renewed (1 second to 1 hour). A replica renews it
    /// every third of this while it holds the set; when the holder dies, another replica takes the set over after at
    /// most this long (plus <see cref="ChangePollInterval"/>). The default value is 15 seconds.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Gets or sets how often a replica reads every set's latest sequence, last change and stored-ranking revision
    /// from the shared database (50 ms to 1 minute, at most a third of <see cref="LeaseDuration"/>): how it learns of
    /// records written through other replicas and of rankings other replicas stored. The default value is 1 second.
    /// </summary>
    public TimeSpan ChangePollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Copies these options.</summary>
    internal ScoringOptions Clone() => (ScoringOptions)MemberwiseClone();
}
