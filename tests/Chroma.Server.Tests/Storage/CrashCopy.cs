using Chroma.Server.Storage.Sqlite;
using Chroma.Server.Storage;

namespace Chroma.Server.Tests.Storage;

/// <summary>
/// What a crash leaves behind: the database and its write-ahead log copied while the store still has them open (no
/// checkpoint, no clean-shutdown marker), plus a way to damage one WAL frame the way a bad disk or a stray write would.
/// </summary>
internal static class CrashCopy
{
    public static void Copy(string fromDirectory, string toDirectory)
    {
        Directory.CreateDirectory(toDirectory);
        foreach (var name in new[] { SqliteRecordStore.FileName, SqliteRecordStore.FileName + "-wal" })
        {
            using var source = new FileStream(Path.Combine(fromDirectory, name), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var target = File.Create(Path.Combine(toDirectory, name));
            source.CopyTo(target);
        }
    }

    /// <summary>The number of whole frames in the log.</summary>
    public static long FrameCount(string walPath)
    {
        var frameSize = FrameSize(walPath);
        return (new FileInfo(walPath).Length - 32) / frameSize;
    }

    /// <summary>Overwrites 64 bytes in the middle of frame <paramref name="frame"/>'s page with garbage.</summary>
    public static void Damage(string walPath, long frame)
    {
        var frameSize = FrameSize(walPath);
        using var file = new FileStream(walPath, FileMode.Open, FileAccess.ReadWrite);
        file.Position = 32 + (frame * frameSize) + 24 + ((frameSize - 24) / 2);
        var garbage = new byte[64];
        new Random(7).NextBytes(garbage);
        file.Write(garbage);
    }

    private static int FrameSize(string walPath)
    {
        var header = new byte[12];
        using (var file = File.OpenRead(walPath))
        {
            file.ReadExactly(header);
        }

        return 24 + (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(8));
    }
}
