namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>What one scoring pass did (reported to tests and logs).</summary>
/// <param name="SetId">The set.</param>
/// <param name="Scored">Records scored in this pass.</param>
/// <param name="Total">Scored records held after it.</param>
/// <param name="Refit">Whether the training data changed and the model was fitted again.</param>
/// <param name="Drift">The drift measured in this pass, or null.</param>
/// <param name="TrainingProblem">Why the set could not be scored, or null.</param>
internal sealed record ScoringPassResult(string SetId, int Scored, int Total, bool Refit, DriftResult? Drift, string? TrainingProblem);
