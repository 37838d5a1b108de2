namespace Chroma.TorchSharp;

/// <summary>Settings of a <see cref="ChromaModuleCapture"/>. Every property has a working default.</summary>
public sealed class ModuleCaptureOptions
{
    /// <summary>What the model's root module returns. The default value is <see cref="ModelOutputKind.Logits"/>.</summary>
    public ModelOutputKind Output { get; set; } = ModelOutputKind.Logits;

    /// <summary>
    /// Whether each row carries the class probabilities (the softmax of the logits, or the probabilities themselves),
    /// not only the predicted class. Ignored when <see cref="Output"/> is <see cref="ModelOutputKind.None"/>.
    /// The default value is <see langword="true"/>.
    /// </summary>
    public bool IncludeClassProbabilities { get; set; } = true;

    /// <summary>
    /// Whether a forward made while the model is in training mode (<c>model.train()</c>) outside a
    /// <see cref="ChromaModuleCapture.Training(global::TorchSharp.torch.Tensor, IReadOnlyList{string}?)"/> or
    /// <see cref="ChromaModuleCapture.Dataset"/> scope is captured as production data. Such forwards are usually
    /// training steps whose labels were not given, so by default they are not captured. The default value is
    /// <see langword="false"/>.
    /// </summary>
    public bool CaptureUnscopedTrainingForwards { get; set; }

    /// <summary>Metadata attached to every captured row, or <see langword="null"/> (the default) for none.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; set; }
}
