using Chroma.Server.Indexing.Hnsw.Internal;

namespace Chroma.Server.Indexing.Hnsw;

/// <summary>Saving and loading.</summary>
internal sealed partial class HnswIndex
{
    /// <summary>Writes the index (graph, vectors, keys, tags and tombstones) to a new file at <paramref name="path"/>.</summary>
    /// <remarks>Writes to a temporary file first and renames it, so a crash never leaves a truncated index behind.</remarks>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string temporary = path + ".tmp";
        using (var stream = Security.OwnerOnlyFiles.Open(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            Save(stream);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Writes the index to <paramref name="stream"/> in the binary format described in <see cref="HnswFileFormat"/>.</summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _writeGate.EnterWriteLock();
        try
        {
            HnswFileFormat.Write(_graph, stream);
        }
        finally
        {
            _writeGate.ExitWriteLock();
        }
    }

    /// <summary>Reads an index written by <see cref="Save(string)"/>; searches then return exactly what they did before.</summary>
    /// <exception cref="InvalidDataException">The file is not an index of a supported version, or is truncated.</exception>
    public static HnswIndex Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Load(stream);
    }

    /// <summary>Reads an index written by <see cref="Save(Stream)"/>.</summary>
    /// <exception cref="InvalidDataException">The data is not an index of a supported version, or is truncated.</exception>
    public static HnswIndex Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return new HnswIndex(HnswFileFormat.Read(stream));
    }
}
