namespace Chroma.Benchmarks.Ood;

/// <summary>
/// The distribution shifts the evaluation constructs from the MNIST and notMNIST files in the repository. Every
/// shift transforms digits the model never saw (the source split, disjoint from the normal production digits), with
/// a magnitude fixed here once, not tuned per detector: geometric (rotation, translation, scale), photometric
/// (contrast, inversion, blur), noise, another data set (notMNIST letters) and class-conditional (one class's
/// images mirrored; a class absent from training, built by <see cref="OodCommand"/> with a second model).
/// </summary>
internal static class ConstructedShifts
{
    public const string AbsentClass = "class absent from training";

    /// <summary>Each shift's name and its images (labels are the source digits' labels; letters keep their letter index).</summary>
    public static IReadOnlyList<(string Name, GreyImages Images)> Build(GreyImages source, GreyImages letters, int seed)
    {
        var translation = new Random(seed);
        var noise = new Random(seed + 1);
        return
        [
            ("notMNIST letters", letters),
            ("rotation ±45°", source.Map("?rotate", (s, d, i) => ImageShifts.Affine(s, d, i % 2 == 0 ? 45 : -45, 1, 0, 0))),
            ("translation 5 px", source.Map("?translate", (s, d, _) =>
            {
                var angle = translation.NextDouble() * 2 * Math.PI;
                ImageShifts.Affine(s, d, 0, 1, 5 * Math.Cos(angle), 5 * Math.Sin(angle));
            })),
            ("scale 0.6", source.Map("?scale", (s, d, _) => ImageShifts.Affine(s, d, 0, 0.6, 0, 0))),
            ("contrast 0.4", source.Map("?contrast", (s, d, _) => ImageShifts.Contrast(s, d, 0.4f))),
            ("inversion", source.Map("?invert", (s, d, _) => ImageShifts.Invert(s, d))),
            ("blur σ 1.5", source.Map("?blur", (s, d, _) => ImageShifts.Blur(s, d, 1.5))),
            ("noise σ 0.3", source.Map("?noise", (s, d, _) => ImageShifts.Noise(s, d, 0.3, noise))),
            ("class 7 mirrored", source.Where(i => source.Labels[i] == 7).Map("?mirror", (s, d, _) => ImageShifts.Mirror(s, d))),
        ];
    }
}
