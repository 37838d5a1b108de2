namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>A scored record with where it lives in the store.</summary>
/// <param name="Sequence">Store sequence.</param>
/// <param name="Dataset">Its dataset.</param>
/// <param name="Record">Its signals.</param>
internal sealed record ScoredEntry(long Sequence, string Dataset, ScoredRecord Record)
{
    /// <summary>Gets the training version the record was scored under (null when not known).</summary>
    public string? TrainingVersion { get; init; }
}

/// <summary>
/// What the scoring worker last published for one set: immutable, so a query reads it without
/// waiting for a pass in progress.
/// </summary>
/// <param name="Entries">Every scored record, in sequence order.</param>
/// <param name="TrainingVersion">The training version the scores belong to, or null before the first pass.</param>
/// <param name="ComputedUnixMs">When the worker last finished a pass (0 = never).</param>
/// <param name="Revision">Grows with every publication; caches key on it.</param>
/// <param name="TrainingProblem">Why the set cannot be scored (no or too little labelled training data), or null.</param>
/// <param name="Stale">
/// Whether the entries were scored against training data that has changed since (a refit is due or
/// running): they are served until a finished pass replaces them, so a ranking never disappears.
/// </param>
/// <param name="TrainingChangesSeen">How many training changes the pass behind this snapshot had seen (see <see cref="SetScoringState.TrainingChanges"/>).</param>
internal sealed record SetScores(
    IReadOnlyList<ScoredEntry> Entries,
    string? TrainingVersion,
    long ComputedUnixMs,
    long Revision,
    string? TrainingProblem,
    bool Stale = false,
    long TrainingChangesSeen = 0)
{
    /// <summary>Gets the state of a set no pass has touched yet.</summary>
    public static SetScores NotYetScored { get; } = new([], null, 0, 0, null);
}
