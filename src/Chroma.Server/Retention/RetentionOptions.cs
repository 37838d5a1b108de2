namespace Chroma.Server.Retention;

/// <summary>
/// Which records the server deletes once they are old enough (section <c>Chroma:Retention</c>). Each rule names a
/// set (or <c>*</c> for every set) and a dataset; records of it whose timestamp is older than the rule's
/// <see cref="RetentionRule.MaxAge"/> are deleted in the background, in batches, through the store's normal delete
/// path (tombstones, index, scores and counts follow). On PostgreSQL one replica at a time runs them.
/// </summary>
public sealed class RetentionOptions
{
    /// <summary>The configuration section, below <c>Chroma</c>.</summary>
    public const string SectionName = "Retention";

    /// <summary>
    /// Gets the rules (<c>Chroma:Retention:Rules:0:Set</c>, <c>...:Dataset</c>, <c>...:MaxAge</c>); at most one per
    /// set and dataset. The default value is an empty list: nothing is ever deleted by age.
    /// </summary>
    public IList<RetentionRule> Rules { get; init; } = [];

    /// <summary>
    /// Gets or sets how often the rules run (1 second to 1 day); the first run starts a few seconds after the server.
    /// The default value is 1 hour.
    /// </summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Gets or sets how many records one delete removes (1 to 100 000); a run deletes batch after batch, each its own
    /// short transaction, so ingest is never held up for long. The default value is 1 000.
    /// </summary>
    public int BatchSize { get; set; } = 1_000;

    /// <summary>
    /// The rules that apply to <paramref name="setId"/>, one per dataset, by dataset: a rule naming the set wins over a
    /// <c>*</c> rule for the same dataset.
    /// </summary>
    internal IEnumerable<RetentionRule> RulesFor(string setId) =>
        Rules.Where(r => r.Covers(setId))
            .GroupBy(r => r.Dataset!, StringComparer.Ordinal)
            .Select(g => g.FirstOrDefault(r => !string.Equals(r.Set, RetentionRule.EverySet, StringComparison.Ordinal)) ?? g.First())
            .OrderBy(r => r.Dataset, StringComparer.Ordinal);

    /// <summary>Copies these options.</summary>
    internal RetentionOptions Clone() => new()
    {
        Rules = Rules is null ? null! : [.. Rules.Select(r => r?.Clone()!)],
        Interval = Interval,
        BatchSize = BatchSize,
    };
}

/// <summary>One retention rule: records of <see cref="Dataset"/> in <see cref="Set"/> older than <see cref="MaxAge"/> are deleted.</summary>
public sealed class RetentionRule
{
    /// <summary>The set id a rule with <see cref="Set"/> = <c>*</c> applies to every set.</summary>
    public const string EverySet = "*";

    /// <summary>Gets or sets the embedding set id, or <c>*</c> for every set. The default value is <see langword="null"/> (must be set).</summary>
    public string? Set { get; set; }

    /// <summary>Gets or sets the dataset (e.g. <c>production</c>). The default value is <see langword="null"/> (must be set).</summary>
    public string? Dataset { get; set; }

    /// <summary>
    /// Gets or sets the age past which a record is deleted, measured from the record's own timestamp (1 minute to
    /// 100 years; e.g. <c>30.00:00:00</c> for 30 days). The default value is <see cref="TimeSpan.Zero"/> (must be set).
    /// </summary>
    public TimeSpan MaxAge { get; set; }

    /// <summary>Whether the rule covers <paramref name="setId"/>.</summary>
    internal bool Covers(string setId) => string.Equals(Set, EverySet, StringComparison.Ordinal) || string.Equals(Set, setId, StringComparison.Ordinal);

    /// <summary>Copies this rule.</summary>
    internal RetentionRule Clone() => (RetentionRule)MemberwiseClone();
}
