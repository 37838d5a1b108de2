namespace Chroma;

/// <summary>The names of the datasets Chroma treats specially. Any other name of 1-64 characters of [A-Za-z0-9_.-] is a custom dataset.</summary>
public static class ChromaDatasets
{
    /// <summary>Data the model was trained on; the reference for every recommendation signal.</summary>
    public const string Training = "training";

    /// <summary>Data the model met in production; what recommendations rank.</summary>
    public const string Production = "production";

    /// <summary>
    /// Optional: data that shows what normal production looks like and that the model never saw (a validation split,
    /// or a production window you reviewed), logged with its labels. With at least 200 such records that a classifier
    /// tells apart from the training data, the server's <c>production_shift</c> signal compares production with them
    /// instead of the training data, so what all of
    /// production shares with none of the training data (the model's memorisation of the records it was fitted on, a
    /// population the training data under-represents) is not reported as shift. Scored like production, but not ranked
    /// unless a query asks for this dataset.
    /// </summary>
    public const string Reference = "reference";

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
