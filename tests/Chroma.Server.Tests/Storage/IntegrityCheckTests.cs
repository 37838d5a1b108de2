using Chroma.Server.Validation;
using Chroma.Server.Storage.Sqlite;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Internal;
using Chroma.Server.Tests.Indexing;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.Logging;

namespace Chroma.Server.Tests.Storage;

[TestFixture]
public sealed class IntegrityCheckTests
{
    private const int Batches = 12;

    [Test, CancelAfter(60_000)]
    public async Task Open_GarbageInWalAfterUncleanShutdown_RefusesNamingTheLogAndChangesNothing()
    {
        // Arrange: a crash copy whose log holds 12 committed batches, one frame in the middle damaged.
        using var crashed = new TempDirectory();
        await WriteBatchesAndCopyAsync(crashed.Path);
        var wal = Path.Combine(crashed.Path, SqliteRecordStore.FileName + "-wal");
        CrashCopy.Damage(wal, frame: 2);
        var before = File.ReadAllBytes(wal);

        // Act
        var ex = Assert.Throws<DatabaseDamagedException>(() => SqliteRecordStore.Open(crashed.Path, TimeProvider.System).Dispose());

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Message, Does.Contain(wal).And.Contain("committed transactions after it would be lost"));
            Assert.That(ex.Message.ReplaceLineEndings(" "), Is.EqualTo(ex.Message), "one line");
            Assert.That(File.ReadAllBytes(wal), Is.EqualTo(before), "the evidence is left as it was");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Open_IntactWalAfterUncleanShutdown_OpensWithEveryRecord()
    {
        // Arrange
        using var crashed = new TempDirectory();
        var set = await WriteBatchesAndCopyAsync(crashed.Path);

        // Act
        using var store = SqliteRecordStore.Open(crashed.Path, TimeProvider.System);

        // Assert
        var stored = store.FindSet(Records.SetId(set));
        Assert.That(stored, Is.Not.Null);
        Assert.That(store.ReadVectors(stored!, static (_, _, _) => { }), Is.EqualTo(Batches * 3));
    }

    [Test, CancelAfter(60_000)]
    public async Task Open_GarbageInWalWithCheckOff_OpensWithoutChecking()
    {
        // Arrange
        using var crashed = new TempDirectory();
        await WriteBatchesAndCopyAsync(crashed.Path);
        CrashCopy.Damage(Path.Combine(crashed.Path, SqliteRecordStore.FileName + "-wal"), frame: 2);

        // Act + Assert: what SQLite does by itself (drop the log from the damaged frame on), without a word.
        Assert.DoesNotThrow(() => SqliteRecordStore.Open(crashed.Path, TimeProvider.System, IntegrityCheckMode.Off).Dispose());
    }

    [Test, CancelAfter(60_000)]
    public async Task Open_IntactDatabaseAfterUncleanShutdown_LogsTheUncleanStopTheCheckAndItsOutcome()
    {
        // Arrange
        using var crashed = new TempDirectory();
        await WriteBatchesAndCopyAsync(crashed.Path);
        var logger = new RecordingLogger<SqliteDatabase>();

        // Act
        SqliteDatabase.Open(crashed.Path, TimeProvider.System, IntegrityCheckMode.Full, logger: logger).Dispose();

        // Assert
        Assert.That(logger.Entries, Has.Count.EqualTo(2));
        Assert.Multiple(() =>
        {
            Assert.That(logger.Entries[0].Level, Is.EqualTo(LogLevel.Warning));
            Assert.That(logger.Entries[0].Message, Does.Contain("did not stop cleanly").And.Contain(SqliteRecordStore.FileName)
                .And.Contain("Chroma:Storage:IntegrityCheck=Full").And.Contain("integrity_check"));
            Assert.That(logger.Entries[1].Level, Is.EqualTo(LogLevel.Information));
            Assert.That(logger.Entries[1].Message, Does.Match(@"Full integrity check found no damage in \d+\.\d s"));
        });
    }

    [TestCase(true, LogLevel.Information, "from before December 2, which left no mark of a clean stop")]
    [TestCase(false, LogLevel.Warning, "did not stop cleanly")]
    public async Task Open_NoCleanStopMarkOnASchemaFromBeforeTheMark_SaysSoInsteadOfAnUncleanStop(bool schemaBeforeTheMark, LogLevel level, string said)
    {
        // Arrange: a data directory without the clean-stop mark, of schema 2 (servers before December 2 never wrote the
        // mark, so every first start after such an upgrade called the stop unclean: probe T's T5) or of the current one.
        using var folder = new TempDirectory();
        if (schemaBeforeTheMark)
        {
            await OldSchemaDatabase.CreateAsync(folder.Path);
        }
        else
        {
            SqliteRecordStore.Open(folder.Path, TimeProvider.System).Dispose();
        }

        File.Delete(Path.Combine(folder.Path, "clean-shutdown"));
        var logger = new RecordingLogger<SqliteDatabase>();

        // Act
        using (var database = SqliteDatabase.Open(folder.Path, TimeProvider.System, IntegrityCheckMode.Quick, logger: logger))
        {
            Assert.That(database.Migration.ToVersion, Is.EqualTo(Chroma.Server.Storage.Sqlite.Internal.SqliteSchema.CurrentVersion), "opened and migrated");
        }

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(logger.Entries[0].Level, Is.EqualTo(level));
            Assert.That(logger.Entries[0].Message, Does.Contain(said).And.Contain("quick_check"));
            Assert.That(logger.Entries[1].Message, Does.Match(@"Quick integrity check found no damage"));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Open_DamagedWalAfterUncleanShutdown_LogsTheCheckAndTheDamageFound()
    {
        // Arrange
        using var crashed = new TempDirectory();
        await WriteBatchesAndCopyAsync(crashed.Path);
        CrashCopy.Damage(Path.Combine(crashed.Path, SqliteRecordStore.FileName + "-wal"), frame: 2);
        var logger = new RecordingLogger<SqliteDatabase>();

        // Act
        Assert.Throws<DatabaseDamagedException>(() => SqliteDatabase.Open(crashed.Path, TimeProvider.System, logger: logger).Dispose());

        // Assert
        Assert.That(logger.Entries.Select(e => e.Level), Is.EqualTo(new[] { LogLevel.Warning, LogLevel.Error }));
        Assert.That(logger.Entries[1].Message, Does.Contain("Quick integrity check found damage").And.Contain("not served"));
    }

    [Test]
    public void Open_AfterCleanClose_LogsNothing()
    {
        // Arrange
        using var directory = new TempDirectory();
        SqliteDatabase.Open(directory.Path, TimeProvider.System).Dispose();
        var logger = new RecordingLogger<SqliteDatabase>();

        // Act
        SqliteDatabase.Open(directory.Path, TimeProvider.System, logger: logger).Dispose();

        // Assert
        Assert.That(logger.Entries, Is.Empty);
    }

    [Test]
    public void Dispose_CleanClose_LeavesMarkerThatOpenRemoves()
    {
        // Arrange
        using var directory = new TempDirectory();
        var marker = Path.Combine(directory.Path, CleanShutdownMarker.FileName);

        // Act
        var store = SqliteRecordStore.Open(directory.Path, TimeProvider.System);
        var whileOpen = File.Exists(marker);
        store.Dispose();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(whileOpen, Is.False, "no marker while the database is in use");
            Assert.That(File.Exists(marker), Is.True, "marker after a clean close");
        });
    }

    [Test]
    public void Run_DamagedTablePage_QuickCheckReportsIt()
    {
        // Arrange: a checkpointed database whose records table spans many pages; garbage over one of them.
        using var directory = new TempDirectory();
        using (var store = SqliteRecordStore.Open(directory.Path, TimeProvider.System))
        {
            store.IngestAsync(SetDescriptorValidator.SetId(Records.Set(dimension: 64)), Records.Set(dimension: 64), StoreFixture.Prepare(Records.Sequence(400, dimension: 64))).Wait(TimeSpan.FromSeconds(30));
        }

        var database = Path.Combine(directory.Path, SqliteRecordStore.FileName);
        using (var file = new FileStream(database, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = 4096 * 8;
            file.Write(Enumerable.Repeat((byte)0x5A, 4096).ToArray());
        }

        // Act
        var problems = DatabaseIntegrityCheck.Run(database, IntegrityCheckMode.Quick);

        // Assert
        Assert.That(problems, Is.Not.Empty);
    }

    [Test]
    public async Task Scan_OnlyLastFrameTorn_NotReportedAsLostData()
    {
        // Arrange: the torn last write of a power loss (that transaction was never acknowledged).
        using var crashed = new TempDirectory();
        await WriteBatchesAndCopyAsync(crashed.Path);
        var wal = Path.Combine(crashed.Path, SqliteRecordStore.FileName + "-wal");
        CrashCopy.Damage(wal, CrashCopy.FrameCount(wal) - 1);

        // Act
        var scan = WalFileScan.Scan(wal);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(scan.ValidFrames, Is.EqualTo(scan.Frames - 1));
            Assert.That(scan.HidesCommittedData, Is.False);
        });
    }

    private static async Task<Protocol.V1.EmbeddingSetDescriptor> WriteBatchesAndCopyAsync(string crashDirectory)
    {
        using var live = new TempDirectory();
        var set = Records.Set();
        using var store = SqliteRecordStore.Open(live.Path, TimeProvider.System);
        for (var i = 0; i < Batches; i++)
        {
            // One commit each: the writer takes one queued batch at a time when they are awaited in turn.
            await store.IngestAsync(SetDescriptorValidator.SetId(set), set, StoreFixture.Prepare(Records.Sequence(3, start: i * 3))).WaitAsync(TimeSpan.FromSeconds(30));
        }

        CrashCopy.Copy(live.Path, crashDirectory);
        return set;
    }
}
