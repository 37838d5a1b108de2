using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Chroma.Server.Services.Internal;

/// <summary>
/// A 64-bit hash (XXH3) of what decides which records a listing pages through (set, filter, strategy, ...), written
/// into its page tokens so that a token used with another query is refused. Each field is length-prefixed, so
/// ("ab", "c") and ("a", "bc") differ; metadata is taken in ordinal key order, as a map's order means nothing.
/// The same on every replica and across restarts: it depends on the query alone.
/// </summary>
internal sealed class QueryFingerprint
{
    private readonly XxHash3 _hash = new();

    /// <summary>Adds a text field (null and empty differ).</summary>
    public QueryFingerprint Add(string? value)
    {
        if (value is null)
        {
            return Add(-1L);
        }

        Add((long)value.Length);
        _hash.Append(Encoding.Unicode.GetBytes(value));
        return this;
    }

    /// <summary>Adds a number.</summary>
    public QueryFingerprint Add(long value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        _hash.Append(bytes);
        return this;
    }

    /// <summary>Adds a metadata filter, whatever order its entries come in.</summary>
    public QueryFingerprint Add(IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        Add((long)metadata.Count);
        foreach (var (key, value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            Add(key).Add(value);
        }

        return this;
    }

    /// <summary>Gets the fingerprint of the fields added so far.</summary>
    public ulong Value => _hash.GetCurrentHashAsUInt64();
}
