using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text.Json;
using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Indexing.Internal;

/// <summary>What a saved set index says about itself.</summary>
/// <param name="SetId">The embedding set it belongs to (checked on load).</param>
/// <param name="Dimension">Floats per vector (checked on load).</param>
/// <param name="IndexedThroughSequence">Every live record up to this store sequence is in the graph.</param>
/// <param name="Datasets">Dataset name to graph tag.</param>
internal sealed record SetIndexHeader(string SetId, int Dimension, long IndexedThroughSequence, Dictionary<string, int> Datasets)
{
    /// <summary>Gets a value indicating whether this is a checkpoint of an unfinished build (resumed at start, not served).</summary>
    public bool Partial { get; init; }

    /// <summary>Gets the latest recall estimate of the graph, if one ran (absent in files of older versions).</summary>
    public RecallEstimate? Estimate { get; init; }

    /// <summary>
    /// Gets how many vectors were added to the graph since it was last checked for nodes no search reaches
    /// (<see cref="HnswVectorIndex.Reconnect"/>), or null when it was not (files of older versions): then the load checks it.
    /// </summary>
    public int? AddsSinceReconnect { get; init; }
}

/// <summary>
/// One file per embedding set: magic "CHSETIX2", int32 header length, the JSON header, the HNSW graph
/// (<see cref="HnswIndex.Save(Stream)"/>) and an XXH128 checksum of everything before it (16 bytes). Written to a
/// temporary file, flushed to disk and renamed, so a crash leaves the old file or the new one, never a mix; the checksum
/// is checked before the graph is parsed, because a damaged graph could send searches outside its arrays. Files of
/// servers before December 7 ("CHSETIX1") end with a SHA-256 instead (32 bytes) and still load; the next save writes the
/// new format. The checksum guards against damage (a torn write, a flipped bit), not against a crafted file, so a
/// non-cryptographic hash does: SHA-256 took 0.63-0.67 s of a 5-7 s load for the 960 MiB file of 1.45 million
/// records (a plain read 0.07 s); XXH128 reads at memory speed (benchmarks README, "Index files: the checksum").
/// An older server reading the new format finds a bad magic and rebuilds the graph from the store, as for a damaged file.
/// </summary>
internal static class SetIndexFile
{
    private const int MaxHeaderBytes = 16 * 1024 * 1024;
    private static ReadOnlySpan<byte> Magic => "CHSETIX2"u8;
    private static ReadOnlySpan<byte> Sha256Magic => "CHSETIX1"u8;

    /// <summary>Writes <paramref name="graph"/> and <paramref name="header"/> to <paramref name="path"/> atomically.</summary>
    public static void Save(string path, SetIndexHeader header, HnswIndex graph)
    {
        var temporary = path + ".tmp";
        using (var file = Security.OwnerOnlyFiles.Open(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            var hash = new XxHash128();
            using (var hashed = new ChecksummedWriteStream(file, hash))
            {
                var json = JsonSerializer.SerializeToUtf8Bytes(header);
                Span<byte> prefix = stackalloc byte[12];
                Magic.CopyTo(prefix);
                BinaryPrimitives.WriteInt32LittleEndian(prefix[8..], json.Length);
                hashed.Write(prefix);
                hashed.Write(json);
                graph.Save(hashed);
            }

            file.Write(hash.GetCurrentHash());
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads a file written by <see cref="Save"/> (or by a server that wrote the SHA-256 format).</summary>
    /// <exception cref="InvalidDataException">The file is damaged, truncated or of another format.</exception>
    public static (SetIndexHeader Header, HnswIndex Graph) Load(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        Span<byte> prefix = stackalloc byte[12];
        if (file.Length < prefix.Length)
        {
            throw new InvalidDataException($"{path} is too short to be a set index.");
        }

        file.ReadExactly(prefix);
        NonCryptographicHashAlgorithm? fast = prefix[..8].SequenceEqual(Magic) ? new XxHash128()
            : prefix[..8].SequenceEqual(Sha256Magic) ? null
            : throw new InvalidDataException($"{path} is not a set index (bad magic).");
        var hashBytes = fast?.HashLengthInBytes ?? SHA256.HashSizeInBytes;
        var payload = file.Length - hashBytes;
        if (payload < prefix.Length)
        {
            throw new InvalidDataException($"{path} is too short to be a set index.");
        }

        file.Position = 0;
        VerifyChecksum(file, payload, path, fast);
        file.Position = prefix.Length;
        var length = BinaryPrimitives.ReadInt32LittleEndian(prefix[8..]);
        if (length is < 2 or > MaxHeaderBytes || length > payload - prefix.Length)
        {
            throw new InvalidDataException($"{path} has a header length of {length} bytes.");
        }

        var json = new byte[length];
        file.ReadExactly(json);
        var header = JsonSerializer.Deserialize<SetIndexHeader>(json)
            ?? throw new InvalidDataException($"{path} has an empty header.");
        return (header, HnswIndex.Load(file));
    }

    // Hashes the first payload bytes of file with fast (XXH128), or with SHA-256 where fast is null, and compares the
    // result with the bytes that follow them.
    private static void VerifyChecksum(FileStream file, long payload, string path, NonCryptographicHashAlgorithm? fast)
    {
        using var sha = fast is null ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        var buffer = new byte[1 << 20];
        var remaining = payload;
        while (remaining > 0)
        {
            var read = file.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
            if (read == 0)
            {
                throw new InvalidDataException($"{path} ended early.");
            }

            fast?.Append(buffer.AsSpan(0, read));
            sha?.AppendData(buffer, 0, read);
            remaining -= read;
        }

        var computed = fast?.GetCurrentHash() ?? sha!.GetHashAndReset();
        Span<byte> stored = stackalloc byte[computed.Length];
        file.ReadExactly(stored);
        if (!computed.AsSpan().SequenceEqual(stored))
        {
            throw new InvalidDataException($"{path} fails its checksum (damaged or partly written).");
        }
    }
}
