using Chroma.Server.Tests.Cli;

namespace Chroma.Studio.Tests;

/// <summary>
/// How well two screenshots of the map agree on where points are: the share of the painted (not white) pixels of
/// <c>expected</c> that have a painted pixel within <c>radius</c> pixels in <c>actual</c>. A picture moved and scaled
/// during a gesture agrees with the crisp redraw at the same view (blur and scaling move edges by a pixel or so);
/// a picture of another view does not.
/// </summary>
internal static class PictureAgreement
{
    public static double Of(PngImage expected, PngImage actual, int radius)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(actual.Width, expected.Width);
        ArgumentOutOfRangeException.ThrowIfNotEqual(actual.Height, expected.Height);
        var painted = Painted(actual);
        int total = 0, found = 0;
        for (var y = 0; y < expected.Height; y++)
        {
            for (var x = 0; x < expected.Width; x++)
            {
                if (expected.Pixel(x, y) == "#ffffff")
                {
                    continue;
                }

                total++;
                if (Near(painted, actual.Width, actual.Height, x, y, radius))
                {
                    found++;
                }
            }
        }

        return total == 0 ? 0 : (double)found / total;
    }

    /// <summary>Pixels that are not white.</summary>
    public static int PaintedCount(PngImage image) => Painted(image).Count(p => p);

    private static bool[] Painted(PngImage image)
    {
        var painted = new bool[image.Width * image.Height];
        for (var y = 0; y < image.Height; y++)
        {
            for (var x = 0; x < image.Width; x++)
            {
                painted[(y * image.Width) + x] = image.Pixel(x, y) != "#ffffff";
            }
        }

        return painted;
    }

    private static bool Near(bool[] painted, int width, int height, int x, int y, int radius)
    {
        for (var dy = -radius; dy <= radius; dy++)
        {
            for (var dx = -radius; dx <= radius; dx++)
            {
                int px = x + dx, py = y + dy;
                if (px >= 0 && py >= 0 && px < width && py < height && painted[(py * width) + px])
                {
                    return true;
                }
            }
        }

        return false;
    }
}
