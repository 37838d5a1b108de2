namespace Chroma;

/// <summary>The names of the datasets Chroma treats specially. Any other name of 1-64 characters of [A-Za-z0-9_.-] is a custom dataset.</summary>
public static class ChromaDatasets
{
    /// <summary>Data the model was trained on; the reference for every recommendation signal.</summary>
    public const string Training = "training";

    /// <summary>Data the model met in production; what recommendations rank.</summary>
    public const string Production = "production";
}
