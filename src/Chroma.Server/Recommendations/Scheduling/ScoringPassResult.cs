namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>What one scoring pass did (reported to tests and logs).</summary>
/// <param name="SetId">The set.</param>
/// <param name="Scored">Records scored in this pass.</param>
/// <param name="Total">Scored records held after it.</param>
/// <param name="Refit">Whether the training data changed and the model was fitted again.</param>
/// <param name="Drift">The drift measured in this pass, or null.</param>
/// <param name="TrainingProblem">Why the set could not be scored, or null.</param>
internal sealed record ScoringPassResult(string SetId, int Scored, int Total, bool Refit, DriftResult? Drift, string? TrainingProblem)
{
    /// <summary>
    /// Gets the records this pass left out (training ones from the fit, others from scoring) because their embedding has
    /// a value the server now refuses (2^50 or more in magnitude, stored by an older server): see <see cref="OversizedEmbeddings"/>.
    /// </summary>
    public int LeftOut { get; init; }

    /// <summary>Gets how long reading the training records from the store took, when this pass fitted.</summary>
    public TimeSpan ReadTraining { get; init; }

    /// <summary>Gets what each step of the fit took, when this pass fitted.</summary>
    public ModelFitDurations? Fit { get; init; }

    /// <summary>Gets how long scoring the records and storing their scores took.</summary>
    public TimeSpan Scoring { get; init; }

    /// <summary>Gets how long measuring drift took.</summary>
    public TimeSpan DriftMeasurement { get; init; }

    /// <summary>Gets how long the pass took in all.</summary>
    public TimeSpan Elapsed { get; init; }
}
