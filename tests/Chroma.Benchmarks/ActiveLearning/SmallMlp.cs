using Chroma.Samples.TorchSharp;
using static TorchSharp.torch;

namespace Chroma.Benchmarks.ActiveLearning;

/// <summary>
/// A 784-64-32-10 perceptron, small enough that the benchmark can retrain it 160 times on a shared 2-core machine;
/// the 32-wide ReLU output before the last layer is the embedding Chroma scores.
/// </summary>
internal sealed class SmallMlp : nn.Module<Tensor, Tensor>
{
    public const int EmbeddingWidth = 32;
    public const int Classes = 10;

    private readonly nn.Module<Tensor, Tensor> _fc1;
    private readonly nn.Module<Tensor, Tensor> _fc2;
    private readonly nn.Module<Tensor, Tensor> _fc3;

    public SmallMlp(long seed)
        : base(nameof(SmallMlp))
    {
        manual_seed(seed);
        _fc1 = nn.Linear(28 * 28, 64);
        _fc2 = nn.Linear(64, EmbeddingWidth);
        _fc3 = nn.Linear(EmbeddingWidth, Classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => _fc3.call(Embed(input));

    public Tensor Embed(Tensor input) => nn.functional.relu(_fc2.call(nn.functional.relu(_fc1.call(input))));

    /// <summary>Trains a fresh model of <paramref name="seed"/> with Adam (batch 64) for <paramref name="epochs"/> epochs.</summary>
    public static SmallMlp Train(LabelledImages data, int epochs, int seed)
    {
        var model = new SmallMlp(seed);
        model.train();
        using var optimizer = optim.Adam(model.parameters(), 2e-3);
        using var images = data.Images(0, data.Count);
        using var labels = data.LabelTensor(0, data.Count);
        var random = new Random(seed);
        const int batch = 64;
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            var order = Enumerable.Range(0, data.Count).Select(i => (long)i).ToArray();
            random.Shuffle(order);
            for (var start = 0; start < data.Count; start += batch)
            {
                using var scope = NewDisposeScope();
                var index = tensor(order.AsSpan(start, Math.Min(batch, data.Count - start)).ToArray());
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(model.call(images.index_select(0, index)), labels.index_select(0, index));
                loss.backward();
                optimizer.step();
            }
        }

        model.eval();
        return model;
    }

    /// <summary>Embeddings, class probabilities and predictions of every image.</summary>
    public (float[] Embeddings, float[][] Probabilities, int[] Predictions) Outputs(LabelledImages data)
    {
        eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var input = data.Images(0, data.Count);
        var embeddings = Embed(input).data<float>().ToArray();
        var p = nn.functional.softmax(forward(input), 1).data<float>().ToArray();
        var probabilities = new float[data.Count][];
        var predictions = new int[data.Count];
        for (var i = 0; i < data.Count; i++)
        {
            probabilities[i] = p.AsSpan(i * Classes, Classes).ToArray();
            var best = 0;
            for (var c = 1; c < Classes; c++)
            {
                best = probabilities[i][c] > probabilities[i][best] ? c : best;
            }

            predictions[i] = best;
        }

        return (embeddings, probabilities, predictions);
    }
}
