using System.Buffers.Binary;
using System.IO.Compression;

namespace Chroma.Server.Tests.Cli;

/// <summary>
/// A minimal PNG reader (8-bit RGB or RGBA, non-interlaced: what Chromium's screenshots are), so
/// a test can count pixels of a colour without an imaging library.
/// </summary>
internal sealed class PngImage
{
    private readonly byte[] _pixels;
    private readonly int _channels;

    private PngImage(int width, int height, int channels, byte[] pixels)
    {
        Width = width;
        Height = height;
        _channels = channels;
        _pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    public static PngImage Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var position = 8; // signature
        int width = 0, height = 0, channels = 0;
        using var idat = new MemoryStream();
        while (position < bytes.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(position));
            var type = System.Text.Encoding.ASCII.GetString(bytes, position + 4, 4);
            var data = bytes.AsSpan(position + 8, length);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                Assert.That(data[8], Is.EqualTo(8), "bit depth");
                Assert.That(data[12], Is.Zero, "interlace");
                channels = data[9] switch
                {
                    2 => 3,
                    6 => 4,
                    _ => throw new NotSupportedException($"PNG colour type {data[9]}"),
                };
            }
            else if (type == "IDAT")
            {
                idat.Write(data);
            }

            position += 12 + length;
        }

        idat.Position = 0;
        using var inflater = new ZLibStream(idat, CompressionMode.Decompress);
        using var raw = new MemoryStream();
        inflater.CopyTo(raw);
        return new PngImage(width, height, channels, Unfilter(raw.ToArray(), width, height, channels));
    }

    /// <summary>Counts pixels whose RGB is within <paramref name="tolerance"/> of <paramref name="hex"/> (#rrggbb) on every channel.</summary>
    public int Count(string hex, int tolerance = 0)
    {
        var r = Convert.ToInt32(hex[1..3], 16);
        var g = Convert.ToInt32(hex[3..5], 16);
        var b = Convert.ToInt32(hex[5..7], 16);
        var count = 0;
        for (var i = 0; i < _pixels.Length; i += _channels)
        {
            if (Math.Abs(_pixels[i] - r) <= tolerance && Math.Abs(_pixels[i + 1] - g) <= tolerance && Math.Abs(_pixels[i + 2] - b) <= tolerance)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>The colour of the pixel at (<paramref name="x"/>, <paramref name="y"/>) as #rrggbb.</summary>
    public string Pixel(int x, int y)
    {
        var i = ((y * Width) + x) * _channels;
        return $"#{_pixels[i]:x2}{_pixels[i + 1]:x2}{_pixels[i + 2]:x2}";
    }

    private static byte[] Unfilter(byte[] raw, int width, int height, int channels)
    {
        var stride = width * channels;
        var pixels = new byte[stride * height];
        for (var y = 0; y < height; y++)
        {
            var filter = raw[y * (stride + 1)];
            var source = raw.AsSpan((y * (stride + 1)) + 1, stride);
            var row = pixels.AsSpan(y * stride, stride);
            var previous = y > 0 ? pixels.AsSpan((y - 1) * stride, stride) : new byte[stride];
            for (var x = 0; x < stride; x++)
            {
                int left = x >= channels ? row[x - channels] : 0;
                int up = previous[x];
                int upLeft = x >= channels ? previous[x - channels] : 0;
                row[x] = (byte)(source[x] + filter switch
                {
                    0 => 0,
                    1 => left,
                    2 => up,
                    3 => (left + up) / 2,
                    4 => Paeth(left, up, upLeft),
                    _ => throw new NotSupportedException($"PNG filter {filter}"),
                });
            }
        }

        return pixels;
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        var pa = Math.Abs(p - a);
        var pb = Math.Abs(p - b);
        var pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
