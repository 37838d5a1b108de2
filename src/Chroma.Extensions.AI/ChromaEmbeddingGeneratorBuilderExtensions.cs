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

    /// <summary>
    /// Adds a <see cref="ChromaEmbeddingGenerator"/> that logs to the embedding set <paramref name="descriptor"/> of the
    /// <see cref="ChromaClient"/> registered in the pipeline's service provider (<c>services.AddChroma(...)</c>), so a
    /// generator registered with <c>services.AddEmbeddingGenerator(...)</c> needs no client at hand.
    /// </summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="descriptor">The embedding set: model, version, layer and the generator's dimension.</param>
    /// <param name="configure">Adjusts the settings, or <see langword="null"/> for the defaults.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentException">A name or an option is invalid; the message names it.</exception>
    /// <exception cref="InvalidOperationException">When the pipeline is built: no <see cref="ChromaClient"/> is registered.</exception>
    public static EmbeddingGeneratorBuilder<string, Embedding<float>> UseChroma(
        this EmbeddingGeneratorBuilder<string, Embedding<float>> builder,
        EmbeddingSetDescriptor descriptor,
        Action<ChromaEmbeddingGeneratorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        var options = new ChromaEmbeddingGeneratorOptions();
        configure?.Invoke(options);
        options.Validate();
        return builder.Use((inner, services) =>
        {
            var client = services.GetService(typeof(ChromaClient)) as ChromaClient
                ?? throw new InvalidOperationException("No ChromaClient is registered: call services.AddChroma(...) before building this embedding generator.");
            return new ChromaEmbeddingGenerator(inner, client.GetEmbeddingSet(descriptor), options);
        });
    }
}
