using System.IO.Hashing;

namespace Chroma.Server.Indexing.Internal;

/// <summary>
/// A write-only stream that appends what it writes to a <see cref="NonCryptographicHashAlgorithm"/> and passes it on to
/// the stream beneath, which it leaves open (<see cref="SetIndexFile"/> writes the checksum after it).
/// </summary>
internal sealed class ChecksummedWriteStream(Stream inner, NonCryptographicHashAlgorithm hash) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        hash.Append(buffer);
        inner.Write(buffer);
    }

    public override void WriteByte(byte value) => Write([value]);

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
