using static TorchSharp.torch;

namespace Chroma.Samples.TorchSharp;

/// <summary>Trains an <see cref="MnistMlp"/> and runs it over a data set in batches.</summary>
public sealed class MnistTrainer
{
    private readonly MnistMlp _model;
    private readonly optim.Optimizer _optimizer;
    private readonly int _batchSize;

    /// <summary>Trains <paramref name="model"/> with Adam at <paramref name="learningRate"/> in batches of <paramref name="batchSize"/>.</summary>
    public MnistTrainer(MnistMlp model, double learningRate = 1e-3, int batchSize = 64)
    {
        _model = model;
        _optimizer = optim.Adam(model.parameters(), learningRate);
        _batchSize = batchSize;
    }

    /// <summary>Batches per pass over <paramref name="data"/>.</summary>
    public int BatchesIn(LabelledImages data) => (data.Count + _batchSize - 1) / _batchSize;

    /// <summary>One epoch over <paramref name="data"/> in a fixed shuffled order; returns the mean loss.</summary>
    /// <param name="data">The training images.</param>
    /// <param name="epoch">The epoch number, which seeds the order.</param>
    /// <param name="afterBatch">Called after each batch (progress).</param>
    public double TrainEpoch(LabelledImages data, int epoch, Action? afterBatch = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        _model.train();
        var order = Enumerable.Range(0, data.Count).ToArray();
        new Random(epoch).Shuffle(order);
        var shuffled = order.Select(i => (long)i).ToArray();
        var total = 0.0;
        using var allImages = data.Images(0, data.Count);
        using var allLabels = data.LabelTensor(0, data.Count);
        for (var start = 0; start < data.Count; start += _batchSize)
        {
            var count = Math.Min(_batchSize, data.Count - start);
            using var scope = NewDisposeScope();
            var index = tensor(shuffled.AsSpan(start, count).ToArray());
            var images = allImages.index_select(0, index);
            var labels = allLabels.index_select(0, index);
            _optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(_model.call(images), labels);
            loss.backward();
            _optimizer.step();
            total += loss.item<float>() * count;
            afterBatch?.Invoke();
        }

        return total / data.Count;
    }

    /// <summary>
    /// Runs the model over <paramref name="data"/> in order, in evaluation mode without gradients, and returns the
    /// predicted class of each image. <paramref name="beforeBatch"/> may open a capture scope for each batch.
    /// </summary>
    public int[] Predict(LabelledImages data, Func<int, int, IDisposable?>? beforeBatch = null, Action? afterBatch = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        _model.eval();
        using var noGrad = no_grad();
        var predictions = new int[data.Count];
        for (var start = 0; start < data.Count; start += _batchSize)
        {
            var count = Math.Min(_batchSize, data.Count - start);
            using var scope = NewDisposeScope();
            var images = data.Images(start, count);
            using (beforeBatch?.Invoke(start, count))
            {
                var classes = _model.call(images).argmax(1).data<long>().ToArray();
                for (var i = 0; i < count; i++)
                {
                    predictions[start + i] = (int)classes[i];
                }
            }

            afterBatch?.Invoke();
        }

        return predictions;
    }
}
