using static TorchSharp.torch;

namespace Chroma.TorchSharp;

/// <summary>Starts capturing a TorchSharp model's embeddings and predictions into a Chroma embedding set.</summary>
public static class ModuleCaptureExtensions
{
    /// <summary>
    /// Hooks <paramref name="layer"/> (the embedding) and <paramref name="model"/> (the prediction) so that every
    /// forward made with <c>model.call(input)</c> logs one row per batch element to <paramref name="set"/>.
    /// </summary>
    /// <param name="model">The model the application calls; its output is read as <see cref="ModuleCaptureOptions.Output"/> says.</param>
    /// <param name="set">Where rows go; its dimension must equal the layer's output width per batch element.</param>
    /// <param name="layer">The layer whose output is the embedding: <paramref name="model"/> itself or one of its submodules.</param>
    /// <param name="options">Capture settings, or <see langword="null"/> for the defaults.</param>
    /// <returns>The capture; dispose it to remove the hooks.</returns>
    /// <exception cref="ArgumentException"><paramref name="layer"/> is not part of <paramref name="model"/>.</exception>
    public static ChromaModuleCapture CaptureWithChroma(
        this nn.Module<Tensor, Tensor> model,
        EmbeddingSet set,
        nn.Module<Tensor, Tensor> layer,
        ModuleCaptureOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(layer);
        if (!ReferenceEquals(model, layer) && !model.modules().Any(m => ReferenceEquals(m, layer)))
        {
            throw new ArgumentException($"Layer '{layer.GetName()}' is not a submodule of the model.", nameof(layer));
        }

        return new ChromaModuleCapture(model, layer, set, options ?? new ModuleCaptureOptions());
    }

    /// <summary>
    /// Hooks the submodule named <paramref name="layer"/> (as in <c>named_modules()</c>, e.g. <c>fc2</c> or
    /// <c>encoder.proj</c>) and <paramref name="model"/>; see
    /// <see cref="CaptureWithChroma(nn.Module{Tensor, Tensor}, EmbeddingSet, nn.Module{Tensor, Tensor}, ModuleCaptureOptions?)"/>.
    /// </summary>
    /// <param name="model">The model the application calls.</param>
    /// <param name="set">Where rows go.</param>
    /// <param name="layer">The submodule's name.</param>
    /// <param name="options">Capture settings, or <see langword="null"/> for the defaults.</param>
    /// <returns>The capture; dispose it to remove the hooks.</returns>
    /// <exception cref="ArgumentException">No submodule has that name, or it does not map one tensor to one tensor.</exception>
    public static ChromaModuleCapture CaptureWithChroma(
        this nn.Module<Tensor, Tensor> model,
        EmbeddingSet set,
        string layer,
        ModuleCaptureOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(layer);
        var names = new List<string>();
        foreach (var (name, module) in model.named_modules())
        {
            if (string.Equals(name, layer, StringComparison.Ordinal))
            {
                return module is nn.Module<Tensor, Tensor> hookable
                    ? model.CaptureWithChroma(set, hookable, options)
                    : throw new ArgumentException($"Layer '{layer}' ({module.GetType().Name}) does not map one tensor to one tensor.", nameof(layer));
            }

            names.Add(name);
        }

        throw new ArgumentException($"The model has no layer '{layer}'; it has: {string.Join(", ", names)}.", nameof(layer));
    }
}
