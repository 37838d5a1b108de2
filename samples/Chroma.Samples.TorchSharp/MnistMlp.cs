using static TorchSharp.torch;

namespace Chroma.Samples.TorchSharp;

/// <summary>
/// A 784-256-128-10 perceptron for 28x28 digits. The 128-wide output of <see cref="Penultimate"/> (the ReLU after
/// <c>fc2</c>) is the embedding Chroma captures; <c>fc3</c> turns it into ten logits.
/// </summary>
public sealed class MnistMlp : nn.Module<Tensor, Tensor>
{
    /// <summary>The embedding width.</summary>
    public const int EmbeddingWidth = 128;

    private readonly nn.Module<Tensor, Tensor> _fc1;
    private readonly nn.Module<Tensor, Tensor> _relu1;
    private readonly nn.Module<Tensor, Tensor> _fc2;
    private readonly nn.Module<Tensor, Tensor> _fc3;

    /// <summary>Creates the network with weights drawn from <paramref name="seed"/>.</summary>
    public MnistMlp(long seed)
        : base(nameof(MnistMlp))
    {
        manual_seed(seed);
        _fc1 = nn.Linear(28 * 28, 256);
        _relu1 = nn.ReLU();
        _fc2 = nn.Linear(256, EmbeddingWidth);
        Penultimate = nn.ReLU();
        _fc3 = nn.Linear(EmbeddingWidth, 10);
        register_module("fc1", _fc1);
        register_module("relu1", _relu1);
        register_module("fc2", _fc2);
        register_module("relu2", Penultimate);
        register_module("fc3", _fc3);
    }

    /// <summary>The layer whose output is the 128-wide embedding.</summary>
    public nn.Module<Tensor, Tensor> Penultimate { get; }

    /// <summary>The logits of a <c>[batch, 784]</c> input.</summary>
    public override Tensor forward(Tensor input) => _fc3.call(Penultimate.call(_fc2.call(_relu1.call(_fc1.call(input)))));

    /// <summary>The embeddings of a <c>[batch, 784]</c> input, without running any hooks (for offline evaluation).</summary>
    public Tensor Embed(Tensor input) => Penultimate.forward(_fc2.forward(_relu1.forward(_fc1.forward(input))));

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _fc1.Dispose();
            _relu1.Dispose();
            _fc2.Dispose();
            Penultimate.Dispose();
            _fc3.Dispose();
        }

        base.Dispose(disposing);
    }
}
