namespace Chroma.Server.Storage;

/// <summary>The dataset names the server gives a meaning to.</summary>
internal static class DatasetNames
{
    /// <summary>Labelled reference data the recommendation engine fits on.</summary>
    public const string Training = "training";

    /// <summary>Live traffic: scored, ranked and compared with training for drift.</summary>
    public const string Production = "production";
}
