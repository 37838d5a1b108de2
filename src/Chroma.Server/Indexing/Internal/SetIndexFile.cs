using System.Buffers.Binary;
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
/// One file per embedding set: magic "CHSETIX1", int32 header length, the JSON header, the HNSW graph
/// (<see cref="HnswIndex.Save(Stream)"/>) and a SHA-256 of everything before it. Written to a temporary file,
/// flushed to disk and renamed, so a crash leaves the old file or the new one, never a mix; the hash is checked
/// before the graph is parsed, because a damaged graph could send searches outside its arrays.
/// </summary>
internal static class SetIndexFile
{
    private const int HashBytes = 32;
    private const int MaxHeaderBytes = 16 * 1024 * 1024;
    private static ReadOnlySpan<byte> Magic => "CHSETIX1"u8;

    /// <summary>Writes <paramref name="graph"/> and <paramref name="header"/> to <paramref name="path"/> atomically.</summary>
    public static void Save(string path, SetIndexHeader header, HnswIndex graph)
    {
        var temporary = path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            using var sha = SHA256.Create();
            using (var hashed = new CryptoStream(file, sha, CryptoStreamMode.Write, leaveOpen: true))
            {
                var json = JsonSerializer.SerializeToUtf8Bytes(header);
                Span<byte> prefix = stackalloc byte[12];
                Magic.CopyTo(prefix);
                BinaryPrimitives.WriteInt32LittleEndian(prefix[8..], json.Length);
                hashed.Write(prefix);
                hashed.Write(json);
                graph.Save(hashed);
                hashed.FlushFinalBlock();
            }

            file.Write(sha.Hash);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads a file written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The file is damaged, truncated or of another format.</exception>
    public static (SetIndexHeader Header, HnswIndex Graph) Load(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var payload = file.Length - HashBytes;
        if (payload < 12)
        {
            throw new InvalidDataException($"{path} is too short to be a set index.");
        }

        VerifyHash(file, payload, path);
        file.Position = 0;
        Span<byte> prefix = stackalloc byte[12];
        file.ReadExactly(prefix);
        if (!prefix[..8].SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{path} is not a set index (bad magic).");
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(prefix[8..]);
        if (length is < 2 or > MaxHeaderBytes || length > payload - 12)
        {
            throw new InvalidDataException($"{path} has a header length of {length} bytes.");
        }

        var json = new byte[length];
        file.ReadExactly(json);
        var header = JsonSerializer.Deserialize<SetIndexHeader>(json)
            ?? throw new InvalidDataException($"{path} has an empty header.");
        return (header, HnswIndex.Load(file));
    }

    private static void VerifyHash(FileStream file, long payload, string path)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        var remaining = payload;
        while (remaining > 0)
        {
            var read = file.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
            if (read == 0)
            {
                throw new InvalidDataException($"{path} ended early.");
            }

            hash.AppendData(buffer, 0, read);
            remaining -= read;
        }

        Span<byte> stored = stackalloc byte[HashBytes];
        file.ReadExactly(stored);
        if (!hash.GetHashAndReset().AsSpan().SequenceEqual(stored))
        {
            throw new InvalidDataException($"{path} fails its checksum (damaged or partly written).");
        }
    }
}
