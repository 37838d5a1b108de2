using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Storage;
using Chroma.Server.Tests.Indexing;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

/// <summary>
/// The ranking file a clean stop writes and the next start reads (<see cref="RankingFile"/>, <see cref="RankingFiles"/>):
/// every field back bit for bit, and a file that is damaged, cut short or older than its set refused and removed.
/// </summary>
[TestFixture]
public sealed class RankingFileTests
{
    private const int Dimension = 4;
    private const long LastSequence = 9_000;
    private static readonly StoredEmbeddingSet Set = SetOf("m/v/l", Dimension);

    [Test]
    public void WriteThenRead_EveryFieldComesBackExactly()
    {
        var entries = Entries(40);
        using var stream = new MemoryStream();

        RankingFile.Write(stream, Header(entries.Count), entries, CancellationToken.None);
        stream.Position = 0;
        var header = RankingFile.ReadHeader(stream);
        var read = RankingFile.ReadEntries(stream, header, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(header, Is.EqualTo(Header(entries.Count)));
            Assert.That(read.Select(Fields), Is.EqualTo(entries.Select(Fields)));
        });
    }

    [Test]
    public void WriteThenRead_MoreDistinctStringsThanAreShared_WrittenInlineAndReadBack()
    {
        // Past 4,096 distinct strings (or one longer than 128 characters) the writer stops sharing and writes them in place.
        var entries = Entries(4_200, predictedClass: i => "class-" + i + (i % 500 == 0 ? new string('x', 200) : string.Empty));
        using var stream = new MemoryStream();

        RankingFile.Write(stream, Header(entries.Count), entries, CancellationToken.None);
        stream.Position = 0;
        var read = RankingFile.ReadEntries(stream, RankingFile.ReadHeader(stream), CancellationToken.None);

        Assert.That(read.Select(e => e.Record.PredictedClass), Is.EqualTo(entries.Select(e => e.Record.PredictedClass)));
    }

    [Test]
    public void Take_TheFileOfTheLastStop_ReturnsItsEntriesAndRemovesIt()
    {
        using var directory = new TempDirectory();
        var (files, entries) = Saved(directory, 25);

        var saved = files.Take(Set, LastSequence, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(saved, Is.Not.Null);
            Assert.That(saved!.Entries.Select(Fields), Is.EqualTo(entries.Select(Fields)));
            Assert.That(saved.Header.ScoredUnixMs, Is.EqualTo(1_700_000_000_123));
            Assert.That(File.Exists(files.PathOf(Set.Key)), Is.False, "a file is used once");
            Assert.That(files.Take(Set, LastSequence, CancellationToken.None), Is.Null);
        });
    }

    [TestCase(LastSequence + 1, Dimension, "m/v/l", TestName = "Take_RecordsStoredOrDeletedSince_RefusedAndRemoved")]
    [TestCase(LastSequence, Dimension + 1, "m/v/l", TestName = "Take_WrittenForAnotherDimension_RefusedAndRemoved")]
    [TestCase(LastSequence, Dimension, "m/v/other", TestName = "Take_WrittenForAnotherSet_RefusedAndRemoved")]
    public void Take_FileThatDoesNotFitTheSet_RefusedAndRemoved(long lastSequence, int dimension, string setId)
    {
        using var directory = new TempDirectory();
        var logger = new RecordingLogger<RankingFiles>();
        var (files, _) = Saved(directory, 10, logger);

        var saved = files.Take(SetOf(setId, dimension), lastSequence, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(saved, Is.Null);
            Assert.That(File.Exists(files.PathOf(Set.Key)), Is.False);
            Assert.That(logger.Entries.Select(e => e.Message), Has.One.Contains("was not used"));
        });
    }

    [TestCase(0.1)]
    [TestCase(0.5)]
    [TestCase(0.999)]
    public void Take_FileCutShort_RefusedAndRemoved(double keptShare)
    {
        using var directory = new TempDirectory();
        var logger = new RecordingLogger<RankingFiles>();
        var (files, _) = Saved(directory, 30, logger);
        var path = files.PathOf(Set.Key);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(int)(bytes.Length * keptShare)]);

        var saved = files.Take(Set, LastSequence, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(saved, Is.Null);
            Assert.That(File.Exists(path), Is.False);
            Assert.That(logger.Entries.Select(e => e.Message), Has.One.Contains("cut short"));
        });
    }

    [Test]
    public void Take_AValueChangedInPlace_FailsTheChecksumAndIsRefused()
    {
        // A byte of an entry's doubles changed: every field still parses, only the checksum tells.
        using var directory = new TempDirectory();
        var logger = new RecordingLogger<RankingFiles>();
        var (files, _) = Saved(directory, 30, logger);
        var path = files.PathOf(Set.Key);
        var bytes = File.ReadAllBytes(path);
        var boundaryFactor = bytes.Length - 4 - 4 - 8 - 1;
        bytes[boundaryFactor] ^= 0x01;
        File.WriteAllBytes(path, bytes);

        var saved = files.Take(Set, LastSequence, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(saved, Is.Null);
            Assert.That(logger.Entries.Select(e => e.Message), Has.One.Contains("checksum"));
        });
    }

    [Test]
    public void Take_NotARankingFile_RefusedAndRemoved()
    {
        using var directory = new TempDirectory();
        var files = new RankingFiles(directory.Path, NullLogger.Instance);
        File.WriteAllText(files.PathOf(Set.Key), "not a ranking");

        Assert.Multiple(() =>
        {
            Assert.That(files.Take(Set, LastSequence, CancellationToken.None), Is.Null);
            Assert.That(File.Exists(files.PathOf(Set.Key)), Is.False);
        });
    }

    [Test]
    public void Save_CancelledPartWay_LeavesNoFile()
    {
        using var directory = new TempDirectory();
        var files = new RankingFiles(directory.Path, NullLogger.Instance);
        var entries = Entries(10);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.Throws<OperationCanceledException>(() => files.Save(Header(entries.Count), entries, cancelled.Token));
        Assert.That(Directory.GetFiles(directory.Path), Is.Empty);
    }

    [Test]
    public void RemoveLeftovers_RemovesEveryRankingFileAndPartialWrite()
    {
        using var directory = new TempDirectory();
        var (files, _) = Saved(directory, 3);
        File.WriteAllText(Path.Combine(directory.Path, "12.ranking.partial"), "half");
        File.WriteAllText(Path.Combine(directory.Path, "keep.txt"), "not ours");

        files.RemoveLeftovers();

        Assert.That(Directory.GetFiles(directory.Path).Select(Path.GetFileName), Is.EqualTo(new[] { "keep.txt" }));
    }

    // A folder's ranking file of `count` entries, as a stop leaves it.
    private static (RankingFiles Files, List<ScoredEntry> Entries) Saved(TempDirectory directory, int count, Microsoft.Extensions.Logging.ILogger? logger = null)
    {
        var files = new RankingFiles(directory.Path, logger ?? NullLogger.Instance);
        var entries = Entries(count);
        files.Save(Header(entries.Count), entries, CancellationToken.None);
        return (files, entries);
    }

    private static StoredEmbeddingSet SetOf(string setId, int dimension) =>
        new(7, setId, new Protocol.V1.EmbeddingSetDescriptor { Model = "m", ModelVersion = "v", Layer = "l", Dimension = dimension });

    private static RankingFileHeader Header(int count) => new(Set.Key, Set.SetId, Dimension, LastSequence, 1_700_000_000_123, count);

    // Every field a ranking uses, in a form NUnit compares by value (NaN equals NaN in a record struct's equality).
    private static object Fields(ScoredEntry entry)
    {
        var r = entry.Record;
        return (
            entry.Sequence,
            entry.Dataset,
            entry.TrainingVersion,
            r.Id,
            r.TrainingVersion,
            r.PredictedClass,
            string.Join(",", r.UnitEmbedding.ToArray()),
            r.Measurement,
            r.Uncertainty,
            r.Probabilities is null ? "none" : string.Join(",", r.Probabilities),
            string.Join(";", r.Signals),
            r.ShiftLeadSurprise,
            r.BoundaryFactor);
    }

    // Records that vary every optional field and carry non-finite values where stored rows can.
    private static List<ScoredEntry> Entries(int count, Func<int, string?>? predictedClass = null)
    {
        var entries = new List<ScoredEntry>(count);
        for (var i = 0; i < count; i++)
        {
            var unit = new[] { MathF.Cos(i), MathF.Sin(i), 0.5f * (i % 3), -0.25f };
            var norm = MathF.Sqrt(unit.Sum(x => x * x));
            var probabilities = i % 4 == 0 ? null : new[] { 0.1f + (0.01f * (i % 7)), 0.9f - (0.01f * (i % 7)) };
            var measurement = new EmbeddingMeasurement(
                i % 11 == 0 ? double.PositiveInfinity : 3.25 + i,
                i % 2 == 0 ? "a" : "b",
                new NeighborSignals(0.125 * i, (i % 5) / 10.0, 10, i % 3 == 0 ? null : "b", i % 3 == 0 ? 0 : 4))
            {
                RelativeMahalanobis = i % 2 == 0 ? -1.5 * i : null,
                NearestTrainingDistance = i % 3 == 1 ? 0.03125 * i : null,
                NormShortfall = i % 5 == 2 ? double.NaN : 0.01 * i,
            };
            SignalScore[] signals =
            [
                new(SignalKind.Mahalanobis, measurement.MahalanobisDistance, (i % 10) / 10.0, 1 - ((i % 10) / 10.0) + 1e-9),
                new(SignalKind.KnnDistance, 0.125 * i, 0.5, 0.5),
                .. i % 2 == 0 ? new[] { new SignalScore(SignalKind.ProductionShift, 1.0 / 3, 0.99, double.Epsilon) } : [],
            ];
            var record = new ScoredRecord(
                "record-" + i + (i % 6 == 0 ? "-ünï" : string.Empty),
                i % 9 == 0 ? "v1+old" : "v2",
                unit.Select(x => x / norm).ToArray(),
                predictedClass is null ? (i % 7 == 0 ? null : "b") : predictedClass(i),
                measurement,
                probabilities is null ? null : PredictionUncertainty.From(probabilities),
                signals)
            {
                Probabilities = probabilities,
                ShiftLeadSurprise = i % 2 == 0 ? 2.5 + i : null,
                BoundaryFactor = i % 4 == 1 ? 0.625 : 1,
            };
            entries.Add(new ScoredEntry(100 + (3 * i), i % 8 == 0 ? "training" : "production", record) { TrainingVersion = i % 10 == 0 ? null : record.TrainingVersion });
        }

        return entries;
    }
}
