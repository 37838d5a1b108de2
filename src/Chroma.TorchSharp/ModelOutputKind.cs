namespace Chroma.TorchSharp;

/// <summary>What the root module of a captured model returns, which decides the inference logged with each row.</summary>
public enum ModelOutputKind
{
    /// <summary>
    /// Unnormalised class scores of shape <c>[batch, classes]</c>: the predicted class is the arg-max and the class
    /// probabilities are their softmax.
    /// </summary>
    Logits,

    /// <summary>Class probabilities of shape <c>[batch, classes]</c>: logged as they are, the predicted class is the arg-max.</summary>
    Probabilities,

    /// <summary>Not a classifier output: rows carry the embedding only, and the root module is not hooked.</summary>
    None,
}
