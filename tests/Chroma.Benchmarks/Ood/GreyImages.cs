using Chroma.Samples.TorchSharp;

namespace Chroma.Benchmarks.Ood;

/// <summary>
/// 28x28 grey images with pixels in [0, 1], their labels and input URIs: the raw material the constructed shifts
/// transform. <see cref="ToLabelled"/> turns them into the sample's normalised <see cref="LabelledImages"/>.
/// </summary>
internal sealed class GreyImages
{
    public const int Side = 28;
    public const int Size = Side * Side;

    public GreyImages(float[] pixels, int[] labels, string[] uris)
    {
        if (pixels.Length != labels.Length * Size || uris.Length != labels.Length)
        {
            throw new ArgumentException($"pixels has {pixels.Length} floats for {labels.Length} labels and {uris.Length} URIs.", nameof(pixels));
        }

        Pixels = pixels;
        Labels = labels;
        Uris = uris;
    }

    public float[] Pixels { get; }

    public int[] Labels { get; }

    public string[] Uris { get; }

    public int Count => Labels.Length;

    public static GreyImages From(IdxImages images, byte[] labels, string source)
    {
        var pixels = new float[images.Count * Size];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = images.Pixels[i] / 255f;
        }

        return new GreyImages(
            pixels,
            [.. labels.Take(images.Count).Select(l => (int)l)],
            [.. Enumerable.Range(0, images.Count).Select(i => $"{source}#{i}")]);
    }

    public ReadOnlySpan<float> Image(int index) => Pixels.AsSpan(index * Size, Size);

    /// <summary>The images whose index passes <paramref name="keep"/>, in order.</summary>
    public GreyImages Where(Func<int, bool> keep)
    {
        var rows = Enumerable.Range(0, Count).Where(keep).ToArray();
        var pixels = new float[rows.Length * Size];
        for (var i = 0; i < rows.Length; i++)
        {
            Image(rows[i]).CopyTo(pixels.AsSpan(i * Size, Size));
        }

        return new GreyImages(pixels, [.. rows.Select(r => Labels[r])], [.. rows.Select(r => Uris[r])]);
    }

    public GreyImages Range(int start, int count) => Where(i => i >= start && i < start + count);

    /// <summary>The same images in a seeded random order (URIs keep their original index).</summary>
    public GreyImages Shuffled(int seed)
    {
        var order = Enumerable.Range(0, Count).ToArray();
        new Random(seed).Shuffle(order);
        var pixels = new float[Pixels.Length];
        for (var i = 0; i < order.Length; i++)
        {
            Image(order[i]).CopyTo(pixels.AsSpan(i * Size, Size));
        }

        return new GreyImages(pixels, [.. order.Select(r => Labels[r])], [.. order.Select(r => Uris[r])]);
    }

    /// <summary>Every image through <paramref name="transform"/> (source, destination, image index); URIs get <paramref name="suffix"/>.</summary>
    public GreyImages Map(string suffix, Action<ReadOnlySpan<float>, Span<float>, int> transform)
    {
        var pixels = new float[Pixels.Length];
        for (var i = 0; i < Count; i++)
        {
            transform(Image(i), pixels.AsSpan(i * Size, Size), i);
        }

        return new GreyImages(pixels, Labels, [.. Uris.Select(u => u + suffix)]);
    }

    public static GreyImages Concat(GreyImages first, GreyImages second) =>
        new([.. first.Pixels, .. second.Pixels], [.. first.Labels, .. second.Labels], [.. first.Uris, .. second.Uris]);

    /// <summary>The sample's normalised form (pixels quantised to bytes, as an IDX file holds them).</summary>
    public LabelledImages ToLabelled()
    {
        var bytes = new byte[Pixels.Length];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)Math.Round(Math.Clamp(Pixels[i], 0f, 1f) * 255f);
        }

        var labelled = LabelledImages.Slice(new IdxImages(Count, Side, Side, bytes), [.. Labels.Select(l => (byte)l)], "x", 0, Count);
        return labelled;
    }
}
