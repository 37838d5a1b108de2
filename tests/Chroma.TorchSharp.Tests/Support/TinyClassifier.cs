using static TorchSharp.torch;

namespace Chroma.Tests.TorchSharp.Support;

/// <summary>A 4-3-2 classifier: <c>fc1</c> then ReLU is the 3-wide embedding, <c>fc2</c> gives two logits.</summary>
internal sealed class TinyClassifier : nn.Module<Tensor, Tensor>
{
    public const int InputWidth = 4;
    public const int EmbeddingWidth = 3;
    public const int Classes = 2;

    public TinyClassifier(long seed = 7)
        : base(nameof(TinyClassifier))
    {
        manual_seed(seed); // the same weights in every run
        Fc1 = nn.Linear(InputWidth, EmbeddingWidth);
        Act = new CountingReLU();
        Fc2 = nn.Linear(EmbeddingWidth, Classes);
        register_module("fc1", Fc1);
        register_module("act", Act);
        register_module("fc2", Fc2);
    }

    public nn.Module<Tensor, Tensor> Fc1 { get; }

    public CountingReLU Act { get; }

    public nn.Module<Tensor, Tensor> Fc2 { get; }

    /// <summary>The embedding exactly as the model computes it, without running any hooks.</summary>
    public Tensor Embed(Tensor input) => Act.forward(Fc1.forward(input));

    /// <summary>The logits exactly as the model computes them, without running any hooks.</summary>
    public Tensor Logits(Tensor input) => Fc2.forward(Embed(input));

    /// <summary>Hooks registered on the model itself (TorchSharp keeps them in protected dictionaries).</summary>
    public int HookCount => pre_hooks.Count + post_hooks.Count;

    public override Tensor forward(Tensor input) => Fc2.call(Act.call(Fc1.call(input)));
}

/// <summary>A ReLU that can say how many hooks it holds, so tests can see hooks come and go.</summary>
internal sealed class CountingReLU : nn.Module<Tensor, Tensor>
{
    public CountingReLU()
        : base(nameof(CountingReLU))
    {
    }

    public int HookCount => pre_hooks.Count + post_hooks.Count;

    public override Tensor forward(Tensor input) => nn.functional.relu(input);
}
