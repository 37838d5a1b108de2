namespace Chroma;

/// <summary>The names of the datasets Chroma treats specially. Any other name of 1-64 characters of [A-Za-z0-9_.-] is a custom dataset.</summary>
public static class ChromaDatasets
{
    /// <summary>Data the model was trained on; the reference for every recommendation signal.</summary>
    public const string Training = "training";

    /// <summary>Data the model met in production; what recommendations rank.</summary>
    public const string Production = "production";

    /// <summary>Throws when <paramref name="dataset"/> is not 1-64 characters of [A-Za-z0-9_.-].</summary>
    /// <param name="dataset">The dataset name to check.</param>
    /// <param name="field">The setting or parameter the name came from; the message names it.</param>
    /// <exception cref="ArgumentException">The name is empty, too long or has other characters.</exception>
    public static void ThrowIfInvalid(string? dataset, string field)
    {
        if (!EmbeddingSetDescriptor.IsValidName(dataset, 64))
        {
            throw new ArgumentException($"{field} '{dataset}' must be 1-64 characters of [A-Za-z0-9_.-].", field);
        }
    }
}
