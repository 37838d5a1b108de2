namespace Chroma.Server.Storage;

/// <summary>The dataset names the server gives a meaning to.</summary>
internal static class DatasetNames
{
    /// <summary>Labelled reference data the recommendation engine fits on.</summary>
    public const string Training = "training";

    /// <summary>Live traffic: scored, ranked and compared with training for drift.</summary>
    public const string Production = "production";

    /// <summary>
    /// Optional labelled data from the training distribution that the model was not fitted on (a validation or test
    /// split). Scored like any non-training dataset, but the production-shift classifier compares production with it
    /// rather than with the training rows, which the model has memorised (<see cref="Recommendations.ProductionShift"/>).
    /// </summary>
    public const string Reference = "reference";
}
