namespace Chroma.Samples.TorchSharp;

/// <summary>
/// The splits this sample uses, from <c>samples/data</c>: the first 6,000 MNIST test digits train the model; the
/// other 4,000 digits and 4,000 notMNIST letters, shuffled together, are the production traffic.
/// </summary>
/// <param name="Training">6,000 digits.</param>
/// <param name="HeldOutDigits">The other 4,000 digits.</param>
/// <param name="Letters">4,000 notMNIST letters A-J (out of distribution for a digit model).</param>
public sealed record SampleData(LabelledImages Training, LabelledImages HeldOutDigits, LabelledImages Letters)
{
    /// <summary>Training split size.</summary>
    public const int TrainingCount = 6_000;

    /// <summary>Held-out digits and letters each.</summary>
    public const int ProductionCount = 4_000;

    /// <summary>Input URI prefix of MNIST digits.</summary>
    public const string DigitSource = "mnist-t10k";

    /// <summary>Input URI prefix of notMNIST letters.</summary>
    public const string LetterSource = "notmnist-t10k";

    /// <summary>Loads the splits from <paramref name="directory"/>.</summary>
    public static SampleData Load(string directory)
    {
        var digits = IdxReader.ReadImages(Path.Combine(directory, "mnist-t10k-images-idx3-ubyte.gz"));
        var digitLabels = IdxReader.ReadLabels(Path.Combine(directory, "mnist-t10k-labels-idx1-ubyte.gz"));
        var letters = IdxReader.ReadImages(Path.Combine(directory, "notmnist-t10k-images-idx3-ubyte.gz"));
        var letterLabels = IdxReader.ReadLabels(Path.Combine(directory, "notmnist-t10k-labels-idx1-ubyte.gz"));
        return new SampleData(
            LabelledImages.Slice(digits, digitLabels, DigitSource, 0, TrainingCount),
            LabelledImages.Slice(digits, digitLabels, DigitSource, TrainingCount, ProductionCount),
            LabelledImages.Slice(letters, letterLabels, LetterSource, 0, ProductionCount));
    }

    /// <summary>The <c>samples/data</c> folder: <paramref name="explicitPath"/>, or found above the working and app folders.</summary>
    /// <exception cref="DirectoryNotFoundException">No folder holds the MNIST files.</exception>
    public static string FindDirectory(string? explicitPath)
    {
        if (explicitPath is not null)
        {
            return explicitPath;
        }

        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "samples", "data");
                if (File.Exists(Path.Combine(candidate, "mnist-t10k-images-idx3-ubyte.gz")))
                {
                    return candidate;
                }
            }
        }

        throw new DirectoryNotFoundException("samples/data with the MNIST files was not found; pass --data <folder>.");
    }
}
