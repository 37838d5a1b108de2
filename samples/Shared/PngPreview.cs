using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Chroma.Samples.Shared;

/// <summary>
/// A grey image as a small PNG data URI (8-bit greyscale, zlib-compressed), to carry in a record's metadata under
/// <c>preview</c> so Chroma Studio shows the input next to the record. A 28x28 MNIST digit is about 400 characters.
/// </summary>
internal static class PngPreview
{
    /// <summary>The metadata key Studio looks at first for an image.</summary>
    public const string MetadataKey = "preview";

    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>The longest metadata value the server takes by default (<c>Chroma:Limits:MaxMetadataValueLength</c>).</summary>
    public const int MaxLength = 1024;

    /// <summary>
    /// Encodes <paramref name="pixels"/> (row-major, 0..1) of a <paramref name="width"/> x <paramref name="height"/>
    /// image; a busy image that would not fit <see cref="MaxLength"/> is stored with 32 grey levels instead of 256.
    /// </summary>
    public static string DataUri(float[] pixels, int width = 28, int height = 28)
    {
        var uri = "data:image/png;base64," + Convert.ToBase64String(Encode(pixels, width, height, levels: 256));
        return uri.Length <= MaxLength ? uri : "data:image/png;base64," + Convert.ToBase64String(Encode(pixels, width, height, levels: 32));
    }

    /// <summary>Metadata holding the preview of <paramref name="pixels"/>.</summary>
    public static Dictionary<string, string> Metadata(float[] pixels) => new() { [MetadataKey] = DataUri(pixels) };

    /// <summary>The PNG file of a grey image with <paramref name="levels"/> grey levels (2..256).</summary>
    public static byte[] Encode(float[] pixels, int width, int height, int levels = 256)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != width * height)
        {
            throw new ArgumentException($"expected {width * height} pixels, got {pixels.Length}", nameof(pixels));
        }

        // Each scanline starts with filter type 0 (none).
        var raw = new byte[height * (width + 1)];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var level = Math.Round(Math.Clamp(pixels[(y * width) + x], 0f, 1f) * (levels - 1));
                raw[(y * (width + 1)) + 1 + x] = (byte)Math.Round(level * 255 / (levels - 1));
            }
        }

        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            zlib.Write(raw);
        }

        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 0; // colour type: greyscale
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(number, data.Length);
        png.Write(number);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        png.Write(typeBytes);
        png.Write(data);
        var crc = 0xFFFFFFFFu;
        foreach (var b in typeBytes.Concat(data))
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        BinaryPrimitives.WriteUInt32BigEndian(number, crc ^ 0xFFFFFFFFu);
        png.Write(number);
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
