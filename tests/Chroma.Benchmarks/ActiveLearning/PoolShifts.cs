using Chroma.Benchmarks.Ood;

namespace Chroma.Benchmarks.ActiveLearning;

/// <summary>
/// The shifts the label-efficiency benchmark can put its production pool and test set under (<c>--shift</c>), each
/// drawn per image from a fixed seed, so a strategy's gain can be checked on more than the one shift it was developed
/// on: <c>rotate-scale</c> (the default: a random rotation in ±45° and shrink in 0.7-1.0), <c>translate-noise</c>
/// (a random move of up to 4 px and Gaussian pixel noise of σ 0.1-0.3), <c>blur-contrast</c> (Gaussian blur of σ
/// 0.5-1.5 and contrast 0.4-1.0) and <c>none</c> (the pool is plain digits, the same distribution as the training).
/// </summary>
internal static class PoolShifts
{
    /// <summary>The names <c>--shift</c> accepts.</summary>
    public static readonly string[] Names = ["rotate-scale", "translate-noise", "blur-contrast", "none"];

    /// <summary>The images under the named shift.</summary>
    /// <exception cref="ArgumentException">Unknown shift name.</exception>
    public static GreyImages Apply(GreyImages images, string name)
    {
        var random = new Random(2026);
        return name switch
        {
            "rotate-scale" => images.Map("?shift", (s, d, _) =>
            {
                var sign = random.Next(2) == 0 ? -1 : 1;
                ImageShifts.Affine(s, d, sign * 45 * random.NextDouble(), 0.7 + (0.3 * random.NextDouble()), 0, 0);
            }),
            "translate-noise" => images.Map("?shift", (s, d, _) =>
            {
                var moved = new float[s.Length];
                var angle = random.NextDouble() * 2 * Math.PI;
                var distance = 4 * random.NextDouble();
                ImageShifts.Affine(s, moved, 0, 1, distance * Math.Cos(angle), distance * Math.Sin(angle));
                ImageShifts.Noise(moved, d, 0.1 + (0.2 * random.NextDouble()), random);
            }),
            "blur-contrast" => images.Map("?shift", (s, d, _) =>
            {
                var blurred = new float[s.Length];
                ImageShifts.Blur(s, blurred, 0.5 + random.NextDouble());
                ImageShifts.Contrast(blurred, d, (float)(0.4 + (0.6 * random.NextDouble())));
            }),
            "none" => images,
            _ => throw new ArgumentException($"unknown shift '{name}'; expected one of {string.Join(", ", Names)}.", nameof(name)),
        };
    }
}
