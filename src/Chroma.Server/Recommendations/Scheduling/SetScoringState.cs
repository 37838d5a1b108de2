using System.Collections.Concurrent;
using Chroma.Server.Storage;

namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>
/// The worker's memory of one set: its fitted model, the scored records and the highest sequence
/// scored. Only the scoring worker mutates it; queries read <see cref="Published"/>, an immutable
/// snapshot replaced after each step of a pass.
/// </summary>
internal sealed class SetScoringState
{
    private readonly ConcurrentQueue<long> _deleted = new();
    private SetScores _published = SetScores.NotYetScored;

    /// <summary>Creates the state of <paramref name="set"/>.</summary>
    public SetScoringState(StoredEmbeddingSet set) => Set = set;

    /// <summary>Gets the set.</summary>
    public StoredEmbeddingSet Set { get; }

    /// <summary>Gets how far the published scores reach (for requests that wait for a fresh ranking).</summary>
    public SetCoverage Coverage { get; } = new();

    /// <summary>Gets the last published scores.</summary>
    public SetScores Published => Volatile.Read(ref _published);

    /// <summary>Gets or sets whether the stored scores were read back after a start.</summary>
    public bool Restored { get; set; }

    /// <summary>Gets or sets the fitted model, or null until the first pass that needs one.</summary>
    public RecommendationModel? Model { get; set; }

    /// <summary>Gets or sets the training data the model was fitted on (the reference side of drift).</summary>
    public TrainingData? Training { get; set; }

    /// <summary>Gets or sets the training version of <see cref="Entries"/>, or null when nothing is scored.</summary>
    public string? TrainingVersion { get; set; }

    /// <summary>Gets the scored records by sequence.</summary>
    public Dictionary<long, ScoredEntry> Entries { get; } = [];

    /// <summary>Gets or sets the highest sequence scored: the next pass reads only records above it.</summary>
    public long MaxScoredSequence { get; set; }

    /// <summary>Notes records deleted from the store (called inside the store's commit; cheap).</summary>
    public void OnDeleted(IReadOnlyList<long> sequences)
    {
        foreach (var sequence in sequences)
        {
            _deleted.Enqueue(sequence);
        }
    }

    /// <summary>Drops the entries of records deleted since the last call; returns how many were dropped.</summary>
    public int ApplyDeletes()
    {
        var dropped = 0;
        while (_deleted.TryDequeue(out var sequence))
        {
            dropped += Entries.Remove(sequence) ? 1 : 0;
        }

        return dropped;
    }

    /// <summary>Publishes the current entries for queries.</summary>
    public void Publish(long computedUnixMs, string? trainingProblem)
    {
        var entries = Entries.Values.OrderBy(e => e.Sequence).ToArray();
        var revision = _published.Revision + 1;
        Volatile.Write(ref _published, new SetScores(entries, TrainingVersion, computedUnixMs, revision, trainingProblem));
    }
}
