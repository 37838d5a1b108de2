namespace Chroma;

/// <summary>Where <see cref="ChromaEmbeddingGenerator"/> puts each input text.</summary>
public enum InputTextCapture
{
    /// <summary>The text is not logged.</summary>
    None,

    /// <summary>The text is logged as the metadata entry <see cref="ChromaEmbeddingGeneratorOptions.TextMetadataKey"/>.</summary>
    Metadata,

    /// <summary>The text is logged as the record's input URI.</summary>
    InputUri,
}

/// <summary>Settings of a <see cref="ChromaEmbeddingGenerator"/>. Every property has a working default.</summary>
public sealed class ChromaEmbeddingGeneratorOptions
{
    /// <summary>The metadata key that holds the input text.</summary>
    public const string TextMetadataKey = "text";

    /// <summary>
    /// The dataset the embeddings go to, 1-64 characters of [A-Za-z0-9_.-]. The default value is
    /// <see cref="ChromaDatasets.Production"/>.
    /// </summary>
    public string Dataset { get; set; } = ChromaDatasets.Production;

    /// <summary>Where the input text is logged. The default value is <see cref="InputTextCapture.Metadata"/>.</summary>
    public InputTextCapture InputText { get; set; } = InputTextCapture.Metadata;

    /// <summary>
    /// The most characters of each input text that are logged; longer texts are cut. The default value is 256.
    /// </summary>
    /// <remarks>
    /// Keep it within the server's limit for where the text goes: a metadata value
    /// (<see cref="InputTextCapture.Metadata"/>) may have at most 1,024 characters and an input URI
    /// (<see cref="InputTextCapture.InputUri"/>) at most 2,048 by default (server settings
    /// <c>Chroma:Limits:MaxMetadataValueLength</c> and <c>Chroma:Limits:MaxInputUriLength</c>). <see cref="Validate"/>
    /// cannot know the server's settings and accepts any positive length; the server rejects a record whose text is
    /// longer than its limit, and the client counts that record as failed.
    /// </remarks>
    public int MaxTextLength { get; set; } = 256;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that is out of range.</summary>
    public void Validate()
    {
        ChromaDatasets.ThrowIfInvalid(Dataset, nameof(Dataset));
        if (!Enum.IsDefined(InputText))
        {
            throw new ArgumentOutOfRangeException(nameof(InputText), InputText, $"{nameof(InputText)} is not a known value.");
        }

        if (MaxTextLength <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxTextLength), MaxTextLength, $"{nameof(MaxTextLength)} must be positive.");
        }
    }
}
