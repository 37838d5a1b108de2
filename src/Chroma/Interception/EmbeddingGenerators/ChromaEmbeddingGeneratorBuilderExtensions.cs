using Microsoft.Extensions.AI;

namespace Chroma;

/// <summary>Adds Chroma capture to a Microsoft.Extensions.AI embedding generator pipeline.</summary>
public static class ChromaEmbeddingGeneratorBuilderExtensions
{
    /// <summary>
    /// Adds a <see cref="ChromaEmbeddingGenerator"/> to the pipeline: every input text and the embedding generated for
    /// it are logged to <paramref name="set"/>. Capture never changes what the inner generator returns or throws.
    /// </summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="set">Where embeddings go.</param>
    /// <param name="configure">Adjusts the settings, or <see langword="null"/> for the defaults.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public static EmbeddingGeneratorBuilder<string, Embedding<float>> UseChroma(
        this EmbeddingGeneratorBuilder<string, Embedding<float>> builder,
        EmbeddingSet set,
        Action<ChromaEmbeddingGeneratorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(set);
        var options = new ChromaEmbeddingGeneratorOptions();
        configure?.Invoke(options);
        return builder.Use(inner => new ChromaEmbeddingGenerator(inner, set, options));
    }
}
