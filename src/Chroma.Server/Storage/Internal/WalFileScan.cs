using System.Buffers.Binary;

namespace Chroma.Server.Storage.Internal;

/// <summary>
/// Reads a SQLite write-ahead log (<c>chroma.db-wal</c>) the way SQLite's recovery does (https://sqlite.org/fileformat2.html#walformat),
/// and tells whether a damaged frame hides committed transactions behind it. SQLite stops at the first frame whose
/// checksum fails and silently discards everything after it; that is right for a torn last write, but when frames of
/// two or more later transactions follow (with <c>synchronous=FULL</c> every commit was fsynced before the next one
/// was written, so at least one of them was acknowledged), acknowledged data would vanish without a word.
/// </summary>
internal static class WalFileScan
{
    private const int HeaderSize = 32;
    private const int FrameHeaderSize = 24;
    private const uint MagicLittleEndian = 0x377f0682;
    private const uint MagicBigEndian = 0x377f0683;

    /// <summary>What the scan found.</summary>
    /// <param name="Frames">Whole frames in the file.</param>
    /// <param name="ValidFrames">Frames before the first one SQLite would reject.</param>
    /// <param name="LostCommits">Transactions of the current log generation that SQLite would discard behind a damaged frame.</param>
    /// <param name="HeaderValid">Whether the 32-byte header is intact.</param>
    internal readonly record struct Result(long Frames, long ValidFrames, int LostCommits, bool HeaderValid)
    {
        /// <summary>Gets a value indicating whether committed transactions would be lost (at least two: see the class remarks).</summary>
        public bool HidesCommittedData => LostCommits >= 2;
    }

    /// <summary>Scans the log at <paramref name="walPath"/>; a missing or empty file is intact.</summary>
    public static Result Scan(string walPath)
    {
        if (!File.Exists(walPath))
        {
            return new Result(0, 0, 0, HeaderValid: true);
        }

        using var file = new FileStream(walPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var header = new byte[HeaderSize];
        if (file.Length < HeaderSize || file.ReadAtLeast(header, HeaderSize, throwOnEndOfStream: false) < HeaderSize)
        {
            return new Result(0, 0, 0, HeaderValid: true);
        }

        var magic = BinaryPrimitives.ReadUInt32BigEndian(header);
        var pageSize = (int)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(8));
        var bigEndian = magic == MagicBigEndian;
        var headerValid = (magic is MagicLittleEndian or MagicBigEndian) && IsPageSize(pageSize);
        uint s0 = 0, s1 = 0;
        if (headerValid)
        {
            Checksum(header.AsSpan(0, 24), bigEndian, ref s0, ref s1);
            headerValid = s0 == BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(24)) && s1 == BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(28));
        }

        if (!headerValid)
        {
            // Without a header the page size is unknown: try the sizes SQLite allows and take the one whose frames
            // agree on their salts (SQLite itself would treat the whole log as empty).
            return ScanHeaderless(file);
        }

        var salt1 = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(16));
        var salt2 = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(20));
        var frame = new byte[FrameHeaderSize + pageSize];
        var frames = (file.Length - HeaderSize) / frame.Length;
        long valid = 0;
        var lost = 0;
        var broken = false;
        for (long i = 0; i < frames; i++)
        {
            file.ReadExactly(frame);
            var span = frame.AsSpan();
            var saltsMatch = BinaryPrimitives.ReadUInt32BigEndian(span[8..]) == salt1 && BinaryPrimitives.ReadUInt32BigEndian(span[12..]) == salt2;
            var commit = BinaryPrimitives.ReadUInt32BigEndian(span[4..]) != 0;
            if (!broken)
            {
                var c0 = s0;
                var c1 = s1;
                Checksum(span[..8], bigEndian, ref c0, ref c1);
                Checksum(span[FrameHeaderSize..], bigEndian, ref c0, ref c1);
                if (saltsMatch && c0 == BinaryPrimitives.ReadUInt32BigEndian(span[16..]) && c1 == BinaryPrimitives.ReadUInt32BigEndian(span[20..]))
                {
                    s0 = c0;
                    s1 = c1;
                    valid++;
                    continue;
                }

                broken = true;
            }

            if (saltsMatch && commit)
            {
                lost++;
            }
        }

        return new Result(frames, valid, lost, HeaderValid: true);
    }

    private static Result ScanHeaderless(FileStream file)
    {
        var best = new Result(0, 0, 0, HeaderValid: false);
        for (var pageSize = 512; pageSize <= 65536; pageSize *= 2)
        {
            var frame = new byte[FrameHeaderSize + pageSize];
            var frames = (file.Length - HeaderSize) / frame.Length;
            if (frames < 2)
            {
                continue;
            }

            file.Position = HeaderSize;
            file.ReadExactly(frame);
            var salt1 = BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(8));
            var salt2 = BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(12));
            var commits = 0;
            var agreeing = 0;
            for (long i = 0; i < frames; i++)
            {
                if (i > 0)
                {
                    file.ReadExactly(frame);
                }

                if (BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(8)) == salt1 && BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(12)) == salt2)
                {
                    agreeing++;
                    commits += BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(4)) != 0 ? 1 : 0;
                }
            }

            // Random bytes agree on 8 salt bytes by chance with negligible odds; most frames agreeing means real frames.
            if (agreeing * 2 > frames && commits > best.LostCommits)
            {
                best = new Result(frames, 0, commits, HeaderValid: false);
            }
        }

        return best;
    }

    private static bool IsPageSize(int size) => size is >= 512 and <= 65536 && (size & (size - 1)) == 0;

    // SQLite's WAL checksum: 32-bit words in pairs, s0 += x0 + s1; s1 += x1 + s0.
    private static void Checksum(ReadOnlySpan<byte> data, bool bigEndian, ref uint s0, ref uint s1)
    {
        for (var i = 0; i + 8 <= data.Length; i += 8)
        {
            var x0 = bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(data[i..]) : BinaryPrimitives.ReadUInt32LittleEndian(data[i..]);
            var x1 = bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(data[(i + 4)..]) : BinaryPrimitives.ReadUInt32LittleEndian(data[(i + 4)..]);
            unchecked
            {
                s0 += x0 + s1;
                s1 += x1 + s0;
            }
        }
    }
}
