using Chroma.Server.Tests.Recommendations.Data;

namespace Chroma.Benchmarks.Ood;

/// <summary>
/// Pixel-level transforms of 28x28 grey images in [0, 1] that the evaluation uses to construct distribution shifts:
/// affine warps (rotation, scale, translation; bilinear, zero outside), Gaussian blur, contrast around mid-grey,
/// inversion, additive Gaussian noise and mirroring.
/// </summary>
internal static class ImageShifts
{
    private const int Side = GreyImages.Side;
    private const float Centre = (Side - 1) / 2f;

    /// <summary>Rotates by <paramref name="degrees"/>, scales by <paramref name="scale"/> about the centre, then moves by (dx, dy) pixels.</summary>
    public static void Affine(ReadOnlySpan<float> source, Span<float> destination, double degrees, double scale, double dx, double dy)
    {
        var radians = degrees * Math.PI / 180;
        var (sin, cos) = Math.SinCos(radians);
        for (var y = 0; y < Side; y++)
        {
            for (var x = 0; x < Side; x++)
            {
                // Inverse map: where in the source does destination (x, y) come from.
                var u = (x - Centre - dx) / scale;
                var v = (y - Centre - dy) / scale;
                var sx = (cos * u) + (sin * v) + Centre;
                var sy = (-sin * u) + (cos * v) + Centre;
                destination[(y * Side) + x] = Bilinear(source, sx, sy);
            }
        }
    }

    /// <summary>Separable Gaussian blur with standard deviation <paramref name="sigma"/> pixels (zero outside the image).</summary>
    public static void Blur(ReadOnlySpan<float> source, Span<float> destination, double sigma)
    {
        var radius = (int)Math.Ceiling(3 * sigma);
        var kernel = new float[(2 * radius) + 1];
        for (var i = -radius; i <= radius; i++)
        {
            kernel[i + radius] = (float)Math.Exp(-i * i / (2 * sigma * sigma));
        }

        var total = kernel.Sum();
        for (var i = 0; i < kernel.Length; i++)
        {
            kernel[i] /= total;
        }

        Span<float> rows = stackalloc float[Side * Side];
        for (var y = 0; y < Side; y++)
        {
            for (var x = 0; x < Side; x++)
            {
                float sum = 0;
                for (var k = -radius; k <= radius; k++)
                {
                    var sx = x + k;
                    sum += sx is >= 0 and < Side ? kernel[k + radius] * source[(y * Side) + sx] : 0;
                }

                rows[(y * Side) + x] = sum;
            }
        }

        for (var y = 0; y < Side; y++)
        {
            for (var x = 0; x < Side; x++)
            {
                float sum = 0;
                for (var k = -radius; k <= radius; k++)
                {
                    var sy = y + k;
                    sum += sy is >= 0 and < Side ? kernel[k + radius] * rows[(sy * Side) + x] : 0;
                }

                destination[(y * Side) + x] = sum;
            }
        }
    }

    /// <summary><c>0.5 + factor (p - 0.5)</c>: below 1 the image fades towards mid-grey.</summary>
    public static void Contrast(ReadOnlySpan<float> source, Span<float> destination, float factor)
    {
        for (var i = 0; i < source.Length; i++)
        {
            destination[i] = 0.5f + (factor * (source[i] - 0.5f));
        }
    }

    /// <summary><c>1 - p</c>: white background, dark ink.</summary>
    public static void Invert(ReadOnlySpan<float> source, Span<float> destination)
    {
        for (var i = 0; i < source.Length; i++)
        {
            destination[i] = 1 - source[i];
        }
    }

    /// <summary>Adds Gaussian noise of standard deviation <paramref name="sigma"/> and clips to [0, 1].</summary>
    public static void Noise(ReadOnlySpan<float> source, Span<float> destination, double sigma, Random random)
    {
        for (var i = 0; i < source.Length; i++)
        {
            destination[i] = (float)Math.Clamp(source[i] + (sigma * random.NextGaussian()), 0, 1);
        }
    }

    /// <summary>Mirrors left to right.</summary>
    public static void Mirror(ReadOnlySpan<float> source, Span<float> destination)
    {
        for (var y = 0; y < Side; y++)
        {
            for (var x = 0; x < Side; x++)
            {
                destination[(y * Side) + x] = source[(y * Side) + (Side - 1 - x)];
            }
        }
    }

    private static float Bilinear(ReadOnlySpan<float> image, double x, double y)
    {
        var x0 = (int)Math.Floor(x);
        var y0 = (int)Math.Floor(y);
        var fx = (float)(x - x0);
        var fy = (float)(y - y0);
        return ((1 - fx) * (1 - fy) * At(image, x0, y0)) + (fx * (1 - fy) * At(image, x0 + 1, y0))
            + ((1 - fx) * fy * At(image, x0, y0 + 1)) + (fx * fy * At(image, x0 + 1, y0 + 1));
    }

    private static float At(ReadOnlySpan<float> image, int x, int y) =>
        x is >= 0 and < Side && y is >= 0 and < Side ? image[(y * Side) + x] : 0;
}
