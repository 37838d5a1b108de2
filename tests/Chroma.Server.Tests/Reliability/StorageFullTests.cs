using Chroma.Server.Storage.Sqlite;
using System.Diagnostics;
using Chroma.Protocol.V1;
using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.Data.Sqlite;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Chroma.Server.Tests.Reliability;

/// <summary>
/// Disk full: SQLite's own <c>SQLITE_FULL</c> injected into the store's real commit path, and (where this machine lets
/// the test mount one) a real, small tmpfs that fills up. Either way ingest answers ResourceExhausted saying the disk is
/// full, the ingest readiness check reports NOT_SERVING while liveness stays SERVING, and ingest resumes by itself when
/// space comes back.
/// </summary>
[TestFixture]
public sealed class StorageFullTests
{
    // SQLITE_FULL; and SQLite's "disk I/O error", what probe O's data directory gave on a file system remounted read-only
    // after an error (every commit failed while ingest readiness still said SERVING).
    [TestCase(13, "database or disk is full", "disk is full", false, TestName = "Log_SqliteFullOnCommit_ResourceExhaustedNotReadyThenResumes")]
    [TestCase(10, "disk I/O error", "cannot write to its data directory (read-only or failing file system)", true, TestName = "Log_DiskIoErrorOnCommit_ResourceExhaustedNamingTheFileSystemNotReadyThenResumes")]
    [CancelAfter(60_000)]
    public async Task Log_CommitFails_ResourceExhaustedNotReadyThenResumes(int sqliteCode, string sqliteMessage, string refusal, bool unwritable)
    {
        // Arrange
        await using var server = await RunningServer.StartAsync(_ => { });
        var store = (SqliteRecordStore)server.Server.Services.GetService(typeof(IRecordStore))!;
        var space = (StorageSpace)server.Server.Services.GetService(typeof(StorageSpace))!;
        var set = Records.Set();
        Assert.That((await server.LogAsync(Records.Batch(set, Records.Sequence(2))))[0].Error, Is.Null, "a first batch is stored");
        store.CommitFault = () => new SqliteException(sqliteMessage, sqliteCode);

        // Act
        var refused = (await server.LogAsync(Records.Batch(set, Records.Sequence(3, start: 10))))[0];
        var whileRefused = await HealthAsync(server);
        var unwritableWhileRefused = space.IsUnwritable;
        store.CommitFault = null;
        var afterRecovery = await WaitForIngestReadyAsync(server);
        var resumed = (await server.LogAsync(Records.Batch(set, Records.Sequence(3, start: 10))))[0];

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(refused.Error?.Code, Is.EqualTo((int)StatusCode.ResourceExhausted));
            Assert.That(refused.Error?.Message, Does.Contain(refusal));
            Assert.That(refused.Error?.RetryAfterMs, Is.GreaterThan(0));
            Assert.That(whileRefused, Is.EqualTo((ServingStatus.Serving, ServingStatus.NotServing, ServingStatus.Serving)), "(liveness, ingest, query) while writes fail");
            Assert.That(unwritableWhileRefused, Is.EqualTo(unwritable));
            Assert.That(afterRecovery, Is.EqualTo((ServingStatus.Serving, ServingStatus.Serving, ServingStatus.Serving)), "(liveness, ingest, query) once a write succeeds");
            Assert.That(space.IsFull, Is.False);
            Assert.That(resumed.Error, Is.Null);
            Assert.That(resumed.Accepted, Is.EqualTo(3), "nothing of the refused batch had been stored");
        });
    }

    [Test, CancelAfter(120_000)]
    public async Task Log_RealTmpfsFills_ResourceExhaustedNotReadyThenResumesWhenSpaceIsFreed()
    {
        // Arrange: a 3 MiB tmpfs holding the data directory and a 1 MiB filler file to free later.
        using var mount = SmallTmpfs.TryMount(megabytes: 3, out var reason);
        if (mount is null)
        {
            Assert.Ignore($"mounting a tmpfs is not permitted here ({reason}); the fault-injection test covers the same path");
        }

        var data = Path.Combine(mount!.Path, "data");
        var filler = Path.Combine(mount.Path, "filler");
        await File.WriteAllBytesAsync(filler, new byte[1024 * 1024]);
        await using var server = await RunningServer.StartAsync(_ => { }, data);
        var set = Records.Set(dimension: 256);

        // Act: 200-record batches of 1 KiB vectors until one is refused.
        LogAck? refused = null;
        for (var i = 0; i < 40 && refused is null; i++)
        {
            var ack = (await server.LogAsync(Records.Batch(set, Records.Sequence(200, dimension: 256, start: i * 200))))[0];
            refused = ack.Error is null ? null : ack;
        }

        var whileFull = await HealthAsync(server);
        File.Delete(filler);
        var afterSpace = await WaitForIngestReadyAsync(server);
        var resumed = (await server.LogAsync(Records.Batch(set, Records.Sequence(5, dimension: 256, start: 100_000))))[0];

        // Assert
        Assert.That(refused, Is.Not.Null, "the tmpfs filled up");
        Assert.Multiple(() =>
        {
            Assert.That(refused!.Error.Code, Is.EqualTo((int)StatusCode.ResourceExhausted), refused.Error.Message);
            Assert.That(refused.Error.Message, Does.Contain("disk is full"));
            Assert.That(whileFull.Ingest, Is.EqualTo(ServingStatus.NotServing));
            Assert.That(whileFull.Liveness, Is.EqualTo(ServingStatus.Serving));
            Assert.That(afterSpace.Ingest, Is.EqualTo(ServingStatus.Serving));
            Assert.That(resumed.Error, Is.Null, resumed.Error?.Message);
            Assert.That(resumed.Accepted, Is.EqualTo(5));
        });
    }

    // The readiness check probes the disk at most once a second: poll (bounded) instead of guessing when.
    private static async Task<(ServingStatus Liveness, ServingStatus Ingest, ServingStatus Query)> WaitForIngestReadyAsync(RunningServer server)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var health = await HealthAsync(server);
            if (health.Ingest == ServingStatus.Serving || DateTime.UtcNow > deadline)
            {
                return health;
            }

            await Task.Delay(100);
        }
    }

    private static async Task<(ServingStatus Liveness, ServingStatus Ingest, ServingStatus Query)> HealthAsync(RunningServer server)
    {
        var health = new Health.HealthClient(server.Channel);
        async Task<ServingStatus> Check(string service) =>
            (await health.CheckAsync(new HealthCheckRequest { Service = service }, deadline: DateTime.UtcNow.AddSeconds(10))).Status;
        return (await Check(string.Empty), await Check("chroma.v1.Ingest"), await Check("chroma.v1.Query"));
    }

    /// <summary>A tmpfs of a few MiB mounted under the temp folder (root only), unmounted on dispose.</summary>
    private sealed class SmallTmpfs : IDisposable
    {
        private SmallTmpfs(string path) => Path = path;

        public string Path { get; }

        public static SmallTmpfs? TryMount(int megabytes, out string reason)
        {
            var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "chroma-tmpfs-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(path);
            var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", path);
            if (code == 0)
            {
                reason = string.Empty;
                return new SmallTmpfs(path);
            }

            Directory.Delete(path);
            reason = $"mount exited {code}: {output.Trim()}";
            return null;
        }

        public void Dispose()
        {
            Run("umount", "-l", Path);
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
                // Left in the temp folder.
            }
        }

        private static (int Code, string Output) Run(string file, params string[] arguments)
        {
            try
            {
                var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
                foreach (var argument in arguments)
                {
                    start.ArgumentList.Add(argument);
                }

                using var process = Process.Start(start)!;
                var output = process.StandardError.ReadToEnd() + process.StandardOutput.ReadToEnd();
                return process.WaitForExit(30_000) ? (process.ExitCode, output) : (-1, "timed out");
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                return (-1, ex.Message);
            }
        }
    }
}
