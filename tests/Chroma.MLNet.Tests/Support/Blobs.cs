using Microsoft.ML;
using Microsoft.ML.Data;

namespace Chroma.Tests.Support;

/// <summary>A row of three Gaussian blobs in four dimensions: a small, separable, deterministic classification task.</summary>
public sealed class BlobRow
{
    public string Label { get; set; } = string.Empty;

    [VectorType(Blobs.Dimension)]
    public float[] Features { get; set; } = [];

    public string Uri { get; set; } = string.Empty;
}

/// <summary>What a blob model predicts, with the label mapped back to its text.</summary>
public sealed class BlobPrediction
{
    public string PredictedLabel { get; set; } = string.Empty;

    public float[] Score { get; set; } = [];
}

/// <summary>
/// A prediction read before the key is mapped back: the label is a key, and the input features ride along. Fields, not
/// properties, because ML.NET output classes often use them and the capture defaults must find both.
/// </summary>
#pragma warning disable CA1051 // Public fields on purpose (see above).
public sealed class BlobKeyPrediction
{
    [ColumnName("PredictedLabel")]
    public uint PredictedKey;

    public float[] Score = [];

    public float[] Features = [];
}
#pragma warning restore CA1051

internal static class Blobs
{
    public const int Dimension = 4;

    public static readonly string[] Classes = ["red", "green", "blue"];

    /// <summary><paramref name="count"/> rows cycling through the classes, centred 4 apart, with a fixed seed.</summary>
    public static List<BlobRow> Generate(int count, int seed = 7)
    {
        var random = new Random(seed);
        var rows = new List<BlobRow>(count);
        for (var i = 0; i < count; i++)
        {
            var cls = i % Classes.Length;
            var features = new float[Dimension];
            for (var d = 0; d < Dimension; d++)
            {
                features[d] = (d == cls ? 4f : 0f) + (float)(random.NextDouble() - 0.5);
            }

            rows.Add(new BlobRow { Label = Classes[cls], Features = features, Uri = $"blob://{seed}/{i}" });
        }

        return rows;
    }

    /// <summary>Maps the label to a key and trains SDCA maximum entropy; <paramref name="mapBack"/> turns the key back into text.</summary>
    public static IEstimator<ITransformer> Pipeline(MLContext ml, bool mapBack = true)
    {
        var train = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy("Label", "Features", maximumNumberOfIterations: 10));
        return mapBack ? train.Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel")) : train;
    }
}
