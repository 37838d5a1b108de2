using Microsoft.Extensions.AI;

namespace Chroma;

/// <summary>Adds Chroma capture to text embedding generators.</summary>
public static class EmbeddingGeneratorCaptureExtensions
{
    /// <summary>
    /// Wraps <paramref name="generator"/> in a <see cref="ChromaEmbeddingGenerator"/>. In a Microsoft.Extensions.AI
    /// pipeline use <see cref="ChromaEmbeddingGeneratorBuilderExtensions.UseChroma(EmbeddingGeneratorBuilder{string, Embedding{float}}, EmbeddingSet, Action{ChromaEmbeddingGeneratorOptions})"/>.
    /// </summary>
    /// <param name="generator">The generator to wrap.</param>
    /// <param name="set">Where embeddings go.</param>
    /// <param name="configure">Adjusts the settings, or <see langword="null"/> for the defaults.</param>
    /// <returns>The wrapping generator.</returns>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public static IEmbeddingGenerator<string, Embedding<float>> WithChroma(
        this IEmbeddingGenerator<string, Embedding<float>> generator,
        EmbeddingSet set,
        Action<ChromaEmbeddingGeneratorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var options = new ChromaEmbeddingGeneratorOptions();
        configure?.Invoke(options);
        return new ChromaEmbeddingGenerator(generator, set, options);
    }
}
