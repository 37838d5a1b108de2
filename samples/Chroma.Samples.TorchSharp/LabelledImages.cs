using static TorchSharp.torch;

namespace Chroma.Samples.TorchSharp;

/// <summary>
/// Normalised 28x28 images with their labels and where each came from, ready to be cut into batches. Pixels are
/// scaled to [0, 1] and standardised with the MNIST mean and deviation, as the model expects.
/// </summary>
public sealed class LabelledImages
{
    private const float Mean = 0.1307f;
    private const float Deviation = 0.3081f;

    private readonly float[] _pixels;
    private readonly int _imageSize;

    private LabelledImages(float[] pixels, int imageSize, int[] labels, string[] inputUris)
    {
        _pixels = pixels;
        _imageSize = imageSize;
        Labels = labels;
        InputUris = inputUris;
    }

    /// <summary>How many images.</summary>
    public int Count => Labels.Count;

    /// <summary>The label of each image (a digit, or a letter index for notMNIST).</summary>
    public IReadOnlyList<int> Labels { get; }

    /// <summary>Where each image came from, e.g. <c>mnist-t10k#6001</c>.</summary>
    public IReadOnlyList<string> InputUris { get; }

    /// <summary>Images <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> - 1 of a file pair.</summary>
    public static LabelledImages Slice(IdxImages images, byte[] labels, string source, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + count, Math.Min(images.Count, labels.Length), nameof(count));
        var size = images.ImageSize;
        var pixels = new float[count * size];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = ((images.Pixels[(start * size) + i] / 255f) - Mean) / Deviation;
        }

        var labelValues = new int[count];
        var uris = new string[count];
        for (var i = 0; i < count; i++)
        {
            labelValues[i] = labels[start + i];
            uris[i] = $"{source}#{start + i}";
        }

        return new LabelledImages(pixels, size, labelValues, uris);
    }

    /// <summary>Both sets in one, shuffled with a fixed seed (e.g. production traffic mixing digits and letters).</summary>
    public static LabelledImages Mix(LabelledImages first, LabelledImages second, int seed)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        var order = Enumerable.Range(0, first.Count + second.Count).ToArray();
        new Random(seed).Shuffle(order);
        var size = first._imageSize;
        var pixels = new float[order.Length * size];
        var labels = new int[order.Length];
        var uris = new string[order.Length];
        for (var i = 0; i < order.Length; i++)
        {
            var (source, index) = order[i] < first.Count ? (first, order[i]) : (second, order[i] - first.Count);
            source._pixels.AsSpan(index * size, size).CopyTo(pixels.AsSpan(i * size));
            labels[i] = source.Labels[index];
            uris[i] = source.InputUris[index];
        }

        return new LabelledImages(pixels, size, labels, uris);
    }

    /// <summary>The images at <paramref name="indices"/>, in that order.</summary>
    public LabelledImages Select(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var pixels = new float[indices.Count * _imageSize];
        for (var i = 0; i < indices.Count; i++)
        {
            _pixels.AsSpan(indices[i] * _imageSize, _imageSize).CopyTo(pixels.AsSpan(i * _imageSize));
        }

        return new LabelledImages(pixels, _imageSize, [.. indices.Select(i => Labels[i])], [.. indices.Select(i => InputUris[i])]);
    }

    /// <summary>A <c>[count, 784]</c> float tensor of images <paramref name="start"/>...</summary>
    public Tensor Images(int start, int count) =>
        tensor(_pixels.AsSpan(start * _imageSize, count * _imageSize).ToArray(), [count, _imageSize]);

    /// <summary>A <c>[count]</c> int64 tensor of the labels of images <paramref name="start"/>...</summary>
    public Tensor LabelTensor(int start, int count) =>
        tensor(Labels.Skip(start).Take(count).Select(l => (long)l).ToArray());
}
