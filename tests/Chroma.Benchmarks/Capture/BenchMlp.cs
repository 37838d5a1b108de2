using static TorchSharp.torch;

namespace Chroma.Benchmarks.Capture;

/// <summary>The sample's 784-256-128-10 perceptron; <see cref="Penultimate"/> (the ReLU after fc2) is the 128-wide embedding.</summary>
internal sealed class BenchMlp : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> _fc1 = nn.Linear(784, 256);
    private readonly nn.Module<Tensor, Tensor> _fc2 = nn.Linear(256, 128);
    private readonly nn.Module<Tensor, Tensor> _fc3 = nn.Linear(128, 10);

    public BenchMlp()
        : base(nameof(BenchMlp))
    {
        register_module("fc1", _fc1);
        register_module("fc2", _fc2);
        register_module("relu2", Penultimate);
        register_module("fc3", _fc3);
    }

    public nn.Module<Tensor, Tensor> Penultimate { get; } = nn.ReLU();

    public override Tensor forward(Tensor input) =>
        _fc3.call(Penultimate.call(_fc2.call(nn.functional.relu(_fc1.call(input)))));
}
