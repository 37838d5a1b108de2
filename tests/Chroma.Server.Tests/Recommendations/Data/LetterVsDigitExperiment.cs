using System.Globalization;
using System.Numerics.Tensors;
using Chroma.Server.Recommendations;

namespace Chroma.Server.Tests.Recommendations.Data;

/// <summary>
/// The real-data check: the first <c>trainCount</c> MNIST test digits are training (with labels);
/// production is the next <c>digitCount</c> digits plus the first <c>letterCount</c> notMNIST
/// letters, each predicted as the nearest class mean. Features are raw pixels (0..1) or a fixed
/// Gaussian random projection of them. Reports letter-vs-digit AUROC per signal and combined.
/// (Shared with tests/Chroma.Benchmarks, which links this file.)
/// </summary>
internal static class LetterVsDigitExperiment
{
    /// <summary>Finds samples/data by walking up from <paramref name="start"/>.</summary>
    public static string FindDataDirectory(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "samples", "data");
            if (File.Exists(Path.Combine(candidate, "mnist-t10k-images-idx3-ubyte.gz")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"samples/data with the MNIST files was not found above {start}.");
    }

    /// <summary>Runs the experiment; <paramref name="projectTo"/> 0 keeps raw 784-d pixels.</summary>
    public static ExperimentResult Run(string dataDirectory, int trainCount, int digitCount, int letterCount, int projectTo, RecommendationOptions? options = null)
    {
        var (digits, _, pixels) = IdxReader.ReadImages(Path.Combine(dataDirectory, "mnist-t10k-images-idx3-ubyte.gz"), trainCount + digitCount);
        var digitLabels = IdxReader.ReadLabels(Path.Combine(dataDirectory, "mnist-t10k-labels-idx1-ubyte.gz"), trainCount);
        var (letters, _, _) = IdxReader.ReadImages(Path.Combine(dataDirectory, "notmnist-t10k-images-idx3-ubyte.gz"), letterCount);

        var d = projectTo > 0 ? projectTo : pixels;
        var digitFeatures = projectTo > 0 ? Project(digits, pixels, projectTo) : digits;
        var letterFeatures = projectTo > 0 ? Project(letters, pixels, projectTo) : letters;
        var labels = digitLabels.Select(l => l.ToString(CultureInfo.InvariantCulture)).ToArray();
        var training = new TrainingData(digitFeatures[..(trainCount * d)], d, labels);

        var model = RecommendationModel.Fit(training, "mnist", options: options);
        float[] production = [.. digitFeatures[(trainCount * d)..], .. letterFeatures];
        var count = digitCount + letterCount;
        var predicted = PredictNearestMean(training, production, count);
        var ids = Enumerable.Range(0, count).Select(i => (i < digitCount ? "digit" : "letter") + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var scored = RecommendationScorer.Score(model, new ProductionBatch(ids, production, d, predicted));

        var isLetter = Enumerable.Range(0, count).Select(i => i >= digitCount).ToArray();
        var perSignal = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var kind in new[] { SignalKind.Mahalanobis, SignalKind.KnnDistance, SignalKind.Boundary })
        {
            perSignal[kind.ToWireName()] = Auroc.Compute(scored.Select(r => r.Signal(kind)!.Value.Value).ToArray(), isLetter);
        }

        foreach (var strategy in Enum.GetValues<Chroma.Server.Recommendations.RecommendationStrategy>())
        {
            perSignal["combined_" + strategy] = Auroc.Compute(scored.Select(r => SignalCombiner.Score(r, strategy)).ToArray(), isLetter);
        }

        return new ExperimentResult(perSignal, scored, model);
    }

    /// <summary>Raw pixels: <paramref name="count"/> training digits, as many letters, and as many later digits.</summary>
    public static (float[] Training, float[] Letters, float[] Digits) DriftSamples(string dataDirectory, int count)
    {
        var (digits, _, pixels) = IdxReader.ReadImages(Path.Combine(dataDirectory, "mnist-t10k-images-idx3-ubyte.gz"), 2 * count);
        var (letters, _, _) = IdxReader.ReadImages(Path.Combine(dataDirectory, "notmnist-t10k-images-idx3-ubyte.gz"), count);
        return (digits[..(count * pixels)], letters, digits[(count * pixels)..]);
    }

    private static float[] Project(float[] rows, int from, int to)
    {
        // Fixed Gaussian projection N(0, 1/to): distances are preserved in expectation (Johnson-Lindenstrauss).
        var random = new Random(123);
        var matrix = new float[to * from];
        for (var i = 0; i < matrix.Length; i++)
        {
            matrix[i] = (float)(random.NextGaussian() / Math.Sqrt(to));
        }

        var count = rows.Length / from;
        var result = new float[count * to];
        Parallel.For(0, count, r =>
        {
            var row = rows.AsSpan(r * from, from);
            for (var j = 0; j < to; j++)
            {
                result[(r * to) + j] = TensorPrimitives.Dot(matrix.AsSpan(j * from, from), row);
            }
        });
        return result;
    }

    private static string?[] PredictNearestMean(TrainingData training, float[] production, int count)
    {
        var d = training.Dimension;
        var classes = training.Labels.Distinct().Order(StringComparer.Ordinal).ToArray();
        var means = new float[classes.Length * d];
        for (var c = 0; c < classes.Length; c++)
        {
            var members = Enumerable.Range(0, training.Count).Where(i => training.Labels[i] == classes[c]).ToArray();
            foreach (var i in members)
            {
                TensorPrimitives.Add(means.AsSpan(c * d, d), training.Row(i), means.AsSpan(c * d, d));
            }

            TensorPrimitives.Divide(means.AsSpan(c * d, d), members.Length, means.AsSpan(c * d, d));
        }

        var predicted = new string?[count];
        for (var i = 0; i < count; i++)
        {
            var row = production.AsSpan(i * d, d);
            var best = 0;
            var bestDistance = float.PositiveInfinity;
            for (var c = 0; c < classes.Length; c++)
            {
                var distance = TensorPrimitives.Distance(row, means.AsSpan(c * d, d));
                if (distance < bestDistance)
                {
                    (best, bestDistance) = (c, distance);
                }
            }

            predicted[i] = classes[best];
        }

        return predicted;
    }
}

/// <summary>AUROC per signal (raw value) and per combined strategy ("combined_Balanced", ...).</summary>
internal sealed record ExperimentResult(IReadOnlyDictionary<string, double> Auroc, IReadOnlyList<ScoredRecord> Scored, RecommendationModel Model);
