namespace Chroma.Server.Tests.Fuzzing;

/// <summary>
/// Deterministic mutations of serialized protobuf messages (seeded <see cref="Random"/>): bit flips,
/// truncation, duplicated ranges (repeated fields), huge length prefixes, inserted bytes, splices and
/// plain random bytes.
/// </summary>
internal sealed class MessageMutator(int seed)
{
    private readonly Random _random = new(seed);

    public int Next(int maxExclusive) => _random.Next(maxExclusive);

    public byte[] Mutate(byte[] valid, byte[] other) => _random.Next(8) switch
    {
        0 => FlipBits(valid),
        1 => Truncate(valid),
        2 => DuplicateRange(valid),
        3 => HugeLength(valid),
        4 => InsertBytes(valid),
        5 => [.. valid, .. other],
        6 => RandomBytes(),
        _ => FlipBits(DuplicateRange(valid)),
    };

    private byte[] FlipBits(byte[] source)
    {
        var bytes = (byte[])source.Clone();
        for (var i = _random.Next(1, 5); i > 0 && bytes.Length > 0; i--)
        {
            bytes[_random.Next(bytes.Length)] ^= (byte)(1 << _random.Next(8));
        }

        return bytes;
    }

    private byte[] Truncate(byte[] source) => source[.._random.Next(source.Length + 1)];

    private byte[] DuplicateRange(byte[] source)
    {
        if (source.Length == 0)
        {
            return source;
        }

        var start = _random.Next(source.Length);
        var length = _random.Next(1, Math.Min(64, source.Length - start) + 1);
        var at = _random.Next(source.Length + 1);
        return [.. source[..at], .. source.AsSpan(start, length), .. source[at..]];
    }

    private byte[] HugeLength(byte[] source)
    {
        // A varint of 2^32-1 or 2^63-1 where a tag or length was: readers must not allocate it.
        byte[] huge = _random.Next(2) == 0 ? [0xFF, 0xFF, 0xFF, 0xFF, 0x0F] : [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F];
        var at = _random.Next(source.Length + 1);
        var tag = (byte)((_random.Next(1, 16) << 3) | 2);
        return [.. source[..at], tag, .. huge, .. source[at..]];
    }

    private byte[] InsertBytes(byte[] source)
    {
        var insert = new byte[_random.Next(1, 9)];
        _random.NextBytes(insert);
        var at = _random.Next(source.Length + 1);
        return [.. source[..at], .. insert, .. source[at..]];
    }

    private byte[] RandomBytes()
    {
        var bytes = new byte[_random.Next(0, 257)];
        _random.NextBytes(bytes);
        return bytes;
    }
}
