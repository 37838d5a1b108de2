using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Chroma.Server.Indexing.Hnsw.Internal;

/// <summary>
/// Binary layout, little-endian: magic "CHNSWIDX", int32 version (1), the options (dimension, metric, M,
/// ef_construction, ef_search, seed, exact-search fraction as double, exact-search max count), int32 node count,
/// int64 packed entry point; then per chunk of nodes: keys (int64), tags (uint16), levels, deleted flags (bytes),
/// vectors (float32, dimension each) and layer-0 links ((2M+1) int32 each: count then ids); then for each node
/// above layer 0 its upper links (level * (M+1) int32). Everything is written as stored, so a loaded graph is
/// bit-identical and answers every search exactly as the saved one did.
/// </summary>
internal static class HnswFileFormat
{
    private const int Version = 1;
    private static ReadOnlySpan<byte> Magic => "CHNSWIDX"u8;

    public static void Write(HnswGraph graph, Stream stream)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("The HNSW file format is little-endian.");
        }

        HnswOptions o = graph.Options;
        int count = graph.NodeCount;
        Span<byte> header = stackalloc byte[64];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], o.Dimension);
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], (int)o.Metric);
        BinaryPrimitives.WriteInt32LittleEndian(header[20..], o.M);
        BinaryPrimitives.WriteInt32LittleEndian(header[24..], o.EfConstruction);
        BinaryPrimitives.WriteInt32LittleEndian(header[28..], o.EfSearch);
        BinaryPrimitives.WriteInt32LittleEndian(header[32..], o.Seed);
        BinaryPrimitives.WriteDoubleLittleEndian(header[36..], o.ExactSearchFraction);
        BinaryPrimitives.WriteInt32LittleEndian(header[44..], o.ExactSearchMaxCount);
        BinaryPrimitives.WriteInt32LittleEndian(header[48..], count);
        BinaryPrimitives.WriteInt64LittleEndian(header[52..], graph.EntryForPersistence);
        stream.Write(header[..60]);

        NodeStore nodes = graph.Nodes;
        for (int c = 0, start = 0; start < count; c++, start += NodeStore.ChunkSize)
        {
            int n = Math.Min(NodeStore.ChunkSize, count - start);
            NodeStore.Chunk chunk = nodes.GetChunk(c);
            stream.Write(MemoryMarshal.AsBytes(chunk.Keys.AsSpan(0, n)));
            stream.Write(MemoryMarshal.AsBytes(chunk.Tags.AsSpan(0, n)));
            stream.Write(chunk.Levels.AsSpan(0, n));
            stream.Write(chunk.Deleted.AsSpan(0, n));
            stream.Write(MemoryMarshal.AsBytes(chunk.Vectors.AsSpan(0, n * o.Dimension)));
            stream.Write(MemoryMarshal.AsBytes(chunk.Links0.AsSpan(0, n * nodes.Level0Stride)));
        }

        for (int node = 0; node < count; node++)
        {
            if (nodes.UpperLinks(node) is int[] upper)
            {
                stream.Write(MemoryMarshal.AsBytes(upper.AsSpan()));
            }
        }
    }

    public static HnswGraph Read(Stream stream)
    {
        Span<byte> header = stackalloc byte[60];
        ReadExactly(stream, header);
        if (!header[..8].SequenceEqual(Magic))
        {
            throw new InvalidDataException("Not an HNSW index file (bad magic).");
        }

        int version = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        if (version != Version)
        {
            throw new InvalidDataException($"HNSW index file version {version} is not supported (expected {Version}).");
        }

        var options = new HnswOptions
        {
            Dimension = BinaryPrimitives.ReadInt32LittleEndian(header[12..]),
            Metric = (HnswMetric)BinaryPrimitives.ReadInt32LittleEndian(header[16..]),
            M = BinaryPrimitives.ReadInt32LittleEndian(header[20..]),
            EfConstruction = BinaryPrimitives.ReadInt32LittleEndian(header[24..]),
            EfSearch = BinaryPrimitives.ReadInt32LittleEndian(header[28..]),
            Seed = BinaryPrimitives.ReadInt32LittleEndian(header[32..]),
            ExactSearchFraction = BinaryPrimitives.ReadDoubleLittleEndian(header[36..]),
            ExactSearchMaxCount = BinaryPrimitives.ReadInt32LittleEndian(header[44..]),
        };
        int count = BinaryPrimitives.ReadInt32LittleEndian(header[48..]);
        long entry = BinaryPrimitives.ReadInt64LittleEndian(header[52..]);
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"HNSW index file header is invalid: {ex.Message}", ex);
        }

        if (count < 0)
        {
            throw new InvalidDataException($"HNSW index file has a negative node count ({count}).");
        }

        var graph = new HnswGraph(options);
        NodeStore nodes = graph.Nodes;
        nodes.EnsureCapacity(count);
        for (int c = 0, start = 0; start < count; c++, start += NodeStore.ChunkSize)
        {
            int n = Math.Min(NodeStore.ChunkSize, count - start);
            NodeStore.Chunk chunk = nodes.GetChunk(c);
            ReadExactly(stream, MemoryMarshal.AsBytes(chunk.Keys.AsSpan(0, n)));
            ReadExactly(stream, MemoryMarshal.AsBytes(chunk.Tags.AsSpan(0, n)));
            ReadExactly(stream, chunk.Levels.AsSpan(0, n));
            ReadExactly(stream, chunk.Deleted.AsSpan(0, n));
            ReadExactly(stream, MemoryMarshal.AsBytes(chunk.Vectors.AsSpan(0, n * options.Dimension)));
            ReadExactly(stream, MemoryMarshal.AsBytes(chunk.Links0.AsSpan(0, n * nodes.Level0Stride)));
            chunk.Ready.AsSpan(0, n).Fill(1);
        }

        for (int node = 0; node < count; node++)
        {
            int level = nodes.Level(node);
            if (level > 0)
            {
                var upper = new int[level * nodes.UpperStride];
                ReadExactly(stream, MemoryMarshal.AsBytes(upper.AsSpan()));
                nodes.SetUpperLinks(node, upper);
            }
        }

        graph.RestoreAfterLoad(count, entry);
        return graph;
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException("HNSW index file is truncated.", ex);
        }
    }
}
