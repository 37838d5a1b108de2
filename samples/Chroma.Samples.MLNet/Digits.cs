using Chroma.Samples.Shared;
using Microsoft.ML.Data;

namespace Chroma.Samples.MLNet;

/// <summary>One 28x28 image with its label and where it came from.</summary>
internal sealed class DigitImage
{
    public const int PixelCount = 28 * 28;

    public string Label { get; set; } = string.Empty;

    [VectorType(PixelCount)]
    public float[] Pixels { get; set; } = [];

    public string Uri { get; set; } = string.Empty;

    /// <summary>"mnist" or "notmnist"; not a model input.</summary>
    [NoColumn]
    public string Source { get; set; } = string.Empty;
}

/// <summary>What the model returns: its 32-dimensional PCA embedding, the class probabilities and the digit.</summary>
internal sealed class DigitPrediction
{
    public float[] Embedding { get; set; } = [];

    public float[] Score { get; set; } = [];

    public string PredictedLabel { get; set; } = string.Empty;
}

/// <summary>Loads the sample data from samples/data (through the shared IDX reader).</summary>
internal static class DigitData
{
    public static string FindDataDirectory() => IdxImages.FindDataDirectory();

    /// <summary>Reads one IDX pair; notMNIST labels 0-9 stand for the letters A-J.</summary>
    public static List<DigitImage> Load(string dataDirectory, string prefix, bool letters)
    {
        var data = IdxImages.Load(dataDirectory, prefix + "-t10k");
        return [.. data.Pixels.Select((pixels, i) => new DigitImage
        {
            Pixels = pixels,
            Label = letters ? ((char)('A' + data.Labels[i])).ToString() : data.Labels[i].ToString(System.Globalization.CultureInfo.InvariantCulture),
            Uri = $"{prefix}-t10k/{i}",
            Source = prefix,
        })];
    }
}
