using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>What a ranking file says about the set it was written for (see <see cref="RankingFile"/>).</summary>
/// <param name="SetKey">The set's key in the store.</param>
/// <param name="SetId">The set's id.</param>
/// <param name="Dimension">The set's dimension.</param>
/// <param name="LastSequence">The set's change sequence in the store when the file was written (inserts and deletes raise it).</param>
/// <param name="ScoredUnixMs">When the ranking was computed.</param>
/// <param name="Count">How many entries follow.</param>
internal sealed record RankingFileHeader(long SetKey, string SetId, int Dimension, long LastSequence, long ScoredUnixMs, int Count);

/// <summary>
/// One set's scored records as a binary file (<see cref="RankingFiles"/> writes it at a clean stop and the next start
/// reads it instead of the stored scores). Every field a read-back of the database rebuilds is kept exactly: the
/// doubles and floats bit for bit and the unit embedding in the half precision it is held in, so the ranking served
/// after the start is the one served before the stop. Little-endian: the magic <c>CHRRANK1</c>, the header, then each
/// entry prefixed by its length, then an end mark, the entry count again and a checksum of the entries (a file cut
/// short or damaged is refused, never half read: the file is not flushed to disk at the stop, where 1 GB took 1-3 s of
/// the shutdown's 5, so a power loss soon after may leave one). Repeated strings (datasets, classes, training versions)
/// are written once and referred to by number after.
/// Entries are encoded into a buffer and the buffer written in large blocks: one stream call per field took 5 s for
/// 1.44 million entries.
/// </summary>
internal static class RankingFile
{
    private const int MaxSharedStrings = 4096;
    private const int NullString = -1;
    private const int InlineString = -2;
    private const int NewString = -3;
    private const uint EndMark = 0x444E4552; // "REND"
    private const int BlockBytes = 1 << 20;
    private const int MaxEntryBytes = 1 << 28;

    private static ReadOnlySpan<byte> Magic => "CHRRANK1"u8;

    /// <summary>Writes <paramref name="entries"/> (in sequence order) under <paramref name="header"/> (whose count must match).</summary>
    public static void Write(Stream stream, RankingFileHeader header, IReadOnlyList<ScoredEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(entries);
        if (header.Count != entries.Count)
        {
            throw new ArgumentException($"the header counts {header.Count} entries, not {entries.Count}", nameof(header));
        }

        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("ranking files are written on little-endian machines only");
        }

        var output = new BlockWriter(stream);
        output.Bytes(Magic);
        output.Int64(header.SetKey);
        output.String(header.SetId);
        output.Int32(header.Dimension);
        output.Int64(header.LastSequence);
        output.Int64(header.ScoredUnixMs);
        output.Int32(header.Count);
        var strings = new Dictionary<string, int>(StringComparer.Ordinal);
        var unit = new float[header.Dimension];
        var half = new Half[header.Dimension];
        for (var i = 0; i < entries.Count; i++)
        {
            if ((i & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var start = output.BeginEntry();
            WriteEntry(ref output, entries[i], strings, unit, half);
            output.EndEntry(start);
        }

        var checksum = output.Checksum;
        output.UInt32(EndMark);
        output.Int32(entries.Count);
        output.UInt64(checksum);
        output.Flush();
    }

    /// <summary>Reads the header alone (to decide whether the entries are worth reading).</summary>
    /// <exception cref="InvalidDataException">The stream is not a ranking file this server writes.</exception>
    public static RankingFileHeader ReadHeader(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
            Span<byte> magic = stackalloc byte[8];
            stream.ReadExactly(magic);
            if (!magic.SequenceEqual(Magic))
            {
                throw new InvalidDataException("not a ranking file of this server (its first bytes differ)");
            }

            var setKey = reader.ReadInt64();
            var setId = Encoding.UTF8.GetString(reader.ReadBytes(LengthOf(reader.ReadInt32(), BlockBytes)));
            var header = new RankingFileHeader(setKey, setId, reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt32());
            return header.Dimension is < 1 or > 1_000_000 || header.Count < 0
                ? throw new InvalidDataException($"its header names {header.Count} entries of dimension {header.Dimension}")
                : header;
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException("the file is cut short", ex);
        }
    }

    /// <summary>Reads the entries that follow the header <see cref="ReadHeader"/> read.</summary>
    /// <exception cref="InvalidDataException">The file is cut short or its content is not what this server writes.</exception>
    public static List<ScoredEntry> ReadEntries(Stream stream, RankingFileHeader header, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(header);
        var input = new BlockReader(stream);
        var entries = new List<ScoredEntry>(header.Count);
        var checksum = default(Checksum);
        var strings = new List<string>();
        var unit = new float[header.Dimension];
        var half = new Half[header.Dimension];
        for (var i = 0; i < header.Count; i++)
        {
            if ((i & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var bytes = input.Take(LengthOf(new SpanReader(input.Take(sizeof(int))).Int32(), MaxEntryBytes));
            checksum.Add(bytes);
            var entry = new SpanReader(bytes);
            entries.Add(ReadEntry(ref entry, strings, unit, half));
            if (!entry.AtEnd)
            {
                throw new InvalidDataException($"entry {i} is longer than what it holds");
            }
        }

        var end = new SpanReader(input.Take(sizeof(uint) + sizeof(int) + sizeof(ulong)));
        if (end.UInt32() != EndMark || end.Int32() != header.Count)
        {
            throw new InvalidDataException("the end mark after the entries is missing");
        }

        if (end.UInt64() != checksum.Value)
        {
            throw new InvalidDataException("its entries do not match their checksum (the file is damaged)");
        }

        return entries;
    }

    private static int LengthOf(int length, int max) =>
        length >= 0 && length <= max ? length : throw new InvalidDataException($"a length of {length} bytes");

    private static void WriteEntry(ref BlockWriter output, ScoredEntry entry, Dictionary<string, int> strings, float[] unit, Half[] half)
    {
        var record = entry.Record;
        if (record.Dimension != unit.Length)
        {
            throw new InvalidOperationException($"record '{record.Id}' has a {record.Dimension}-d unit embedding in a {unit.Length}-d set");
        }

        output.Int64(entry.Sequence);
        output.Shared(entry.Dataset, strings);
        output.Shared(entry.TrainingVersion, strings);
        output.String(record.Id);
        output.Shared(record.TrainingVersion, strings);
        output.Shared(record.PredictedClass, strings);

        // Widening half to float and narrowing back is exact: the same halves are read.
        record.CopyUnitTo(unit);
        System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(unit, half);
        output.Bytes(MemoryMarshal.AsBytes(half.AsSpan()));

        var m = record.Measurement;
        output.Double(m.MahalanobisDistance);
        output.Shared(m.NearestClass, strings);
        output.Optional(m.RelativeMahalanobis);
        output.Optional(m.NearestTrainingDistance);
        output.Optional(m.NormShortfall);
        output.Double(m.Neighbors.MeanDistance);
        output.Double(m.Neighbors.Disagreement);
        output.Int32(m.Neighbors.NeighborCount);
        output.Shared(m.Neighbors.DominantOtherClass, strings);
        output.Int32(m.Neighbors.DominantOtherCount);

        // The uncertainty is rebuilt from the probabilities on reading, as the scorer built it.
        output.Int32(record.Probabilities?.Length ?? -1);
        output.Bytes(MemoryMarshal.AsBytes(record.Probabilities.AsSpan()));

        output.Int32(record.Signals.Count);
        foreach (var signal in record.Signals)
        {
            output.Int32((int)signal.Kind);
            output.Double(signal.Value);
            output.Double(signal.Percentile);
            output.Double(signal.PValue);
        }

        output.Optional(record.ShiftLeadSurprise);
        output.Double(record.BoundaryFactor);
    }

    private static ScoredEntry ReadEntry(ref SpanReader entry, List<string> strings, float[] unit, Half[] half)
    {
        var sequence = entry.Int64();
        var dataset = entry.Shared(strings) ?? throw new InvalidDataException($"record {sequence} has no dataset");
        var entryVersion = entry.Shared(strings);
        var id = entry.String();
        var trainingVersion = entry.Shared(strings) ?? throw new InvalidDataException($"record '{id}' has no training version");
        var predictedClass = entry.Shared(strings);

        entry.Bytes(half.Length * 2).CopyTo(MemoryMarshal.AsBytes(half.AsSpan()));
        System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(half, unit);

        var distance = entry.Double();
        var nearestClass = entry.Shared(strings) ?? throw new InvalidDataException($"record '{id}' has no nearest class");
        var relative = entry.Optional();
        var nearestTraining = entry.Optional();
        var shortfall = entry.Optional();
        var neighbors = new NeighborSignals(entry.Double(), entry.Double(), entry.Int32(), entry.Shared(strings), entry.Int32());
        var measurement = new EmbeddingMeasurement(distance, nearestClass, neighbors)
        {
            RelativeMahalanobis = relative,
            NearestTrainingDistance = nearestTraining,
            NormShortfall = shortfall,
        };

        var probabilityCount = entry.Int32();
        float[]? probabilities = null;
        if (probabilityCount >= 0)
        {
            probabilities = MemoryMarshal.Cast<byte, float>(entry.Bytes(LengthOf(probabilityCount, 1 << 24) * sizeof(float))).ToArray();
        }

        var signals = new SignalScore[LengthOf(entry.Int32(), 1024)];
        for (var s = 0; s < signals.Length; s++)
        {
            var kind = (SignalKind)entry.Int32();
            if (!Enum.IsDefined(kind))
            {
                throw new InvalidDataException($"record '{id}' names signal {(int)kind}, which this server does not know");
            }

            signals[s] = new SignalScore(kind, entry.Double(), entry.Double(), entry.Double());
        }

        var lead = entry.Optional();
        var factor = entry.Double();
        var record = new ScoredRecord(
            id,
            trainingVersion,
            unit,
            predictedClass,
            measurement,
            probabilities is null ? null : PredictionUncertainty.From(probabilities),
            signals)
        {
            Probabilities = probabilities,
            ShiftLeadSurprise = lead,
            BoundaryFactor = factor,
        };
        return new ScoredEntry(sequence, dataset, record) { TrainingVersion = entryVersion };
    }

    /// <summary>Encodes into a buffer and writes it to the stream a block at a time; an entry never straddles a flush.</summary>
    private struct BlockWriter(Stream stream)
    {
        private byte[] _buffer = new byte[BlockBytes * 2];
        private int _position;
        private Checksum _checksum;

        public readonly ulong Checksum => _checksum.Value;

        public int BeginEntry()
        {
            if (_position >= BlockBytes)
            {
                Flush();
            }

            var start = _position;
            Int32(0);
            return start;
        }

        public void EndEntry(int start)
        {
            BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(start), _position - start - sizeof(int));
            _checksum.Add(_buffer.AsSpan(start + sizeof(int), _position - start - sizeof(int)));
        }

        public void Flush()
        {
            stream.Write(_buffer, 0, _position);
            _position = 0;
        }

        public void Int32(int value) => BinaryPrimitives.WriteInt32LittleEndian(Space(sizeof(int)), value);

        public void UInt32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Space(sizeof(uint)), value);

        public void Int64(long value) => BinaryPrimitives.WriteInt64LittleEndian(Space(sizeof(long)), value);

        public void UInt64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Space(sizeof(ulong)), value);

        public void Double(double value) => BinaryPrimitives.WriteDoubleLittleEndian(Space(sizeof(double)), value);

        public void Optional(double? value)
        {
            Space(1)[0] = value.HasValue ? (byte)1 : (byte)0;
            if (value is { } v)
            {
                Double(v);
            }
        }

        public void Bytes(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Space(bytes.Length));

        public void String(string value)
        {
            var length = Encoding.UTF8.GetByteCount(value);
            Int32(length);
            Encoding.UTF8.GetBytes(value, Space(length));
        }

        public void Shared(string? value, Dictionary<string, int> strings)
        {
            if (value is null)
            {
                Int32(NullString);
            }
            else if (strings.TryGetValue(value, out var index))
            {
                Int32(index);
            }
            else if (strings.Count < MaxSharedStrings && value.Length <= RepeatedStrings.MaxLength)
            {
                strings.Add(value, strings.Count);
                Int32(NewString);
                String(value);
            }
            else
            {
                Int32(InlineString);
                String(value);
            }
        }

        private Span<byte> Space(int length)
        {
            if (_position + length > _buffer.Length)
            {
                // One entry larger than the buffer (a very wide set): grow rather than split it.
                Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _position + length));
            }

            var span = _buffer.AsSpan(_position, length);
            _position += length;
            return span;
        }
    }

    /// <summary>Reads the stream a block at a time and hands out whole entries from it.</summary>
    private sealed class BlockReader(Stream stream)
    {
        private byte[] _buffer = new byte[BlockBytes * 2];
        private int _start;
        private int _end;

        public ReadOnlySpan<byte> Take(int length)
        {
            if (_end - _start < length)
            {
                Fill(length);
            }

            var span = _buffer.AsSpan(_start, length);
            _start += length;
            return span;
        }

        private void Fill(int length)
        {
            var held = _end - _start;
            if (length > _buffer.Length)
            {
                var larger = new byte[length];
                _buffer.AsSpan(_start, held).CopyTo(larger);
                _buffer = larger;
            }
            else
            {
                _buffer.AsSpan(_start, held).CopyTo(_buffer);
            }

            _start = 0;
            _end = held;
            while (_end < length)
            {
                var read = stream.Read(_buffer, _end, _buffer.Length - _end);
                if (read == 0)
                {
                    throw new InvalidDataException("the file is cut short");
                }

                _end += read;
            }
        }
    }

    /// <summary>Decodes the fields of one entry; reading past its end is an error naming the file as damaged.</summary>
    private ref struct SpanReader(ReadOnlySpan<byte> span)
    {
        private ReadOnlySpan<byte> _rest = span;

        public readonly bool AtEnd => _rest.IsEmpty;

        public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Bytes(sizeof(int)));

        public uint UInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(sizeof(uint)));

        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Bytes(sizeof(long)));

        public ulong UInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Bytes(sizeof(ulong)));

        public double Double() => BinaryPrimitives.ReadDoubleLittleEndian(Bytes(sizeof(double)));

        public double? Optional() => Bytes(1)[0] switch
        {
            0 => null,
            1 => Double(),
            var flag => throw new InvalidDataException($"an optional value is flagged {flag}"),
        };

        public string String() => Encoding.UTF8.GetString(Bytes(LengthOf(Int32(), _rest.Length)));

        public string? Shared(List<string> strings)
        {
            var code = Int32();
            switch (code)
            {
                case NullString:
                    return null;
                case InlineString:
                    return String();
                case NewString:
                    var value = String();
                    strings.Add(value);
                    return value;
                case >= 0 when code < strings.Count:
                    return strings[code];
                default:
                    throw new InvalidDataException($"a string reference ({code}) names no string written before it");
            }
        }

        public ReadOnlySpan<byte> Bytes(int length)
        {
            if (length > _rest.Length)
            {
                throw new InvalidDataException("an entry ends before its fields do");
            }

            var bytes = _rest[..length];
            _rest = _rest[length..];
            return bytes;
        }
    }

    /// <summary>
    /// A running checksum of the entries, four 64-bit lanes at a time (the whole encoding, checksum included, took
    /// 0.9-1.0 s for 1.44 million entries). Not cryptographic: it finds a file damaged or cut short, not one forged.
    /// </summary>
    private struct Checksum
    {
        private const ulong Prime1 = 0x9E3779B185EBCA87;
        private const ulong Prime2 = 0xC2B2AE3D27D4EB4F;
        private ulong _a;
        private ulong _b;
        private ulong _c;
        private ulong _d;
        private long _length;

        public readonly ulong Value => Mix(Mix(Mix(Mix(_a, _b), _c), _d), (ulong)_length);

        public void Add(ReadOnlySpan<byte> bytes)
        {
            var words = MemoryMarshal.Cast<byte, ulong>(bytes);
            var i = 0;
            for (; i + 4 <= words.Length; i += 4)
            {
                _a = Mix(_a, words[i]);
                _b = Mix(_b, words[i + 1]);
                _c = Mix(_c, words[i + 2]);
                _d = Mix(_d, words[i + 3]);
            }

            for (; i < words.Length; i++)
            {
                _a = Mix(_a, words[i]);
            }

            ulong tail = 0;
            foreach (var b in bytes[(words.Length * sizeof(ulong))..])
            {
                tail = (tail << 8) | b;
            }

            _b = Mix(_b, tail ^ ((ulong)bytes.Length << 56));
            _length += bytes.Length;
        }

        private static ulong Mix(ulong hash, ulong word) => System.Numerics.BitOperations.RotateLeft(hash ^ (word * Prime1), 31) * Prime2;
    }
}
