using System.Text.Json;
using Microsoft.Extensions.Logging;
using Chroma.Protocol.V1;
using Chroma.Server.Cli;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Sqlite;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Cli;

/// <summary><c>backup</c> against a running server's real SQLite file, and a server started on the copy.</summary>
[TestFixture]
public sealed class BackupCommandTests
{
    private static readonly EmbeddingSetDescriptor Set = Records.Set(dimension: 3, model: "cli-backup");
    private static readonly string SetId = Records.SetId(Set);

    [Test]
    [CancelAfter(90_000)]
    public async Task Backup_WhileTheServerRuns_AServerOnTheCopyHasTheRecordsLabelsAndAudit()
    {
        using var data = new TempDirectory();
        using var restored = new TempDirectory();
        var copy = Path.Combine(restored.Path, SqliteDatabase.FileName);
        var training = Enumerable.Range(0, 8).Select(i => Records.Make([i, 1, 0], "training", i % 2 == 0 ? "a" : "b")).ToArray();
        var production = Enumerable.Range(0, 4).Select(i => Records.Make([10 + i, 0.5f, 0.25f], "production")).ToArray();
        CliRun backup;
        await using (var server = await RunningServer.StartAsync(data.Path))
        {
            Assert.That((await server.LogAsync(Records.Batch(Set, training), Records.Batch(Set, production))).Select(a => a.Error), Has.All.Null);
            var label = await CliRun.RunAsync("label", "--endpoint", server.Server.Endpoint.ToString(), "--set", SetId, "--id", production[0].Id, "--label", "c", "--reviewer", "ada");
            Assert.That(label.ExitCode, Is.EqualTo(CliExitCode.Success), label.Error);
            var deleted = await server.Query.DeleteRecordsAsync(new DeleteRecordsRequest { SetId = SetId, Ids = { production[1].Id } });
            Assert.That(deleted.Deleted, Is.EqualTo(1));

            backup = await CliRun.RunAsync("backup", "--data-directory", data.Path, "--out", copy, "--json");
        }

        Assert.That(backup.ExitCode, Is.EqualTo(CliExitCode.Success), backup.Error);
        var summary = JsonDocument.Parse(backup.Output).RootElement;
        Assert.That(summary.GetProperty("records").GetInt64(), Is.EqualTo(11), "live records: the deleted one's tombstone is not counted (probe T)");
        Assert.That(summary.GetProperty("labels").GetInt64(), Is.EqualTo(1));
        Assert.That(Directory.GetFiles(restored.Path), Is.EqualTo(new[] { copy }), "only the finished copy, no partial file");

        await using var onCopy = await RunningServer.StartAsync(restored.Path);
        var endpoint = onCopy.Server.Endpoint.ToString();
        var count = await onCopy.Query.CountRecordsAsync(new CountRecordsRequest { SetId = SetId });
        var nearest = await onCopy.Query.FindNearestAsync(new FindNearestRequest { SetId = SetId, RecordId = production[3].Id, K = 2 });
        var labels = await CliRun.RunAsync("export-labels", "--endpoint", endpoint, "--set", SetId, "--format", "jsonl");

        Assert.That(count.Count, Is.EqualTo(11));
        Assert.That(nearest.Neighbors.Select(n => n.Record.Record.Id), Is.EqualTo(new[] { production[3].Id, production[2].Id }), "the index is built from the copy");
        var row = JsonDocument.Parse(labels.Output.Trim()).RootElement;
        Assert.That((row.GetProperty("id").GetString(), row.GetProperty("label").GetString(), row.GetProperty("labeledBy").GetString()), Is.EqualTo((production[0].Id, "c", "ada")));
    }

    [Test]
    [CancelAfter(90_000)]
    public async Task Backup_RestoredAsTheReadmeSays_CheckedOnceAsACopyNotCalledAnUncleanStop()
    {
        // probe U, U3: a server started on a restored copy warned that the last server "did not stop cleanly".
        using var data = new TempDirectory();
        using var restored = new TempDirectory();
        await using (var server = await RunningServer.StartAsync(data.Path))
        {
            var records = Enumerable.Range(0, 6).Select(i => Records.Make([i, 1, 0], "training", i % 2 == 0 ? "a" : "b")).ToArray();
            Assert.That((await server.LogAsync(Records.Batch(Set, records))).Select(a => a.Error), Has.All.Null);
            var backup = await CliRun.RunAsync("backup", "--data-directory", data.Path, "--out", Path.Combine(restored.Path, SqliteDatabase.FileName), "--json");
            Assert.That(backup.ExitCode, Is.EqualTo(CliExitCode.Success), backup.Error);
        }

        await using var onCopy = await Reliability.LoggedServer.StartAsync(o => o.DataDirectory = restored.Path);

        var storage = onCopy.Logs.Entries.Where(e => e.Event.Id is 24 or 41).ToList();
        Assert.That(storage.Select(e => (e.Event.Id, e.Level)), Is.EqualTo(new[] { (41, LogLevel.Information) }), string.Join("\n", storage.Select(e => e.Message)));
        Assert.That(storage[0].Message, Does.Contain("a copy"));
    }

    [Test]
    [CancelAfter(90_000)]
    [Platform(Exclude = "Win", Reason = "Unix file modes")]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Backup_UsualUmask_TheCopyIsOwnerOnly()
    {
        using var data = new TempDirectory();
        using var target = new TempDirectory();
        var copy = Path.Combine(target.Path, "private.db");
        await using (var server = await RunningServer.StartAsync(data.Path))
        {
            Assert.That((await server.LogAsync(Records.Batch(Set, Records.Make([1, 2, 3])))).Select(a => a.Error), Has.All.Null);
        }

        var backup = await CliRun.RunAsync("backup", "--data-directory", data.Path, "--out", copy, "--json");

        Assert.That(backup.ExitCode, Is.EqualTo(CliExitCode.Success), backup.Error);
        Assert.That(File.GetUnixFileMode(copy), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite), "the copy holds every record and label");
        Assert.That(JsonDocument.Parse(backup.Output).RootElement.GetProperty("records").GetInt64(), Is.EqualTo(1));
    }

    [Test]
    [CancelAfter(90_000)]
    public async Task Backup_DuringIngest_TheCopyIsIntactAndHoldsWholeBatches()
    {
        using var data = new TempDirectory();
        using var target = new TempDirectory();
        var copy = Path.Combine(target.Path, "during.db");
        await using var server = await RunningServer.StartAsync(data.Path);
        using var stop = new CancellationTokenSource();
        const int BatchSize = 50;
        var acknowledged = 0;
        var writer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var records = Enumerable.Range(0, BatchSize).Select(i => Records.Make([acknowledged, i, 1], "production")).ToArray();
                Assert.That((await server.LogAsync(Records.Batch(Set, records))).Single().Error, Is.Null);
                Interlocked.Increment(ref acknowledged);
            }
        });

        // A copy taken while batches keep arriving, after some were acknowledged.
        while (Volatile.Read(ref acknowledged) < 3)
        {
            await Task.Delay(20);
        }

        var before = Volatile.Read(ref acknowledged);
        var backup = await CliRun.RunAsync("backup", "--data-directory", data.Path, "--out", copy, "--json");
        await stop.CancelAsync();
        await writer;

        Assert.That(backup.ExitCode, Is.EqualTo(CliExitCode.Success), backup.Error);
        Assert.That(DatabaseIntegrityCheck.Run(copy, IntegrityCheckMode.Full), Is.Empty);
        var records = JsonDocument.Parse(backup.Output).RootElement.GetProperty("records").GetInt64();
        Assert.That(records % BatchSize, Is.Zero, "a batch is in the copy entirely or not at all");
        Assert.That(records, Is.InRange(before * BatchSize, acknowledged * BatchSize));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Backup_OutExists_UsageErrorAndTheFileUntouched()
    {
        using var data = new TempDirectory();
        await using (await RunningServer.StartAsync(data.Path))
        {
        }

        var existing = Path.Combine(data.Path, "old-backup.db");
        await File.WriteAllTextAsync(existing, "keep me");

        var run = await CliRun.RunAsync("backup", "--data-directory", data.Path, "--out", existing);

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Usage));
        Assert.That(run.Error, Does.Contain($"--out '{existing}' already exists"));
        Assert.That(await File.ReadAllTextAsync(existing), Is.EqualTo("keep me"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Backup_NoDatabaseInTheDirectory_UsageErrorNamingThePath()
    {
        using var empty = new TempDirectory();

        var run = await CliRun.RunAsync("backup", "--data-directory", empty.Path, "--out", Path.Combine(empty.Path, "b.db"));

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Usage));
        Assert.That(run.Error, Does.Contain($"there is no SQLite database ({SqliteDatabase.FileName}) in \"{empty.Path}\";"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Backup_PostgresServersDataDirectoryPassed_SaysItHoldsNoSqliteDatabaseAndPointsToPgDump()
    {
        // Arrange: what a PostgreSQL-backed server leaves in its data directory: the lock and the indexes, no chroma.db.
        using var data = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(data.Path, "indexes"));
        await File.WriteAllTextAsync(Path.Combine(data.Path, "chroma.lock"), "1\n");

        // Act
        var run = await CliRun.RunAsync("backup", "--data-directory", data.Path, "--out", Path.Combine(data.Path, "b.db"));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Usage));
            Assert.That(run.Error, Does.Contain($"there is no SQLite database ({SqliteDatabase.FileName}) in \"{data.Path}\"").And.Contain("pg_dump"));
            Assert.That(run.Error, Does.Not.Contain("pass --data-directory"), "it was passed");
        });
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Backup_DataDirectoryMissing_SaysItDoesNotExist()
    {
        using var parent = new TempDirectory();
        var missing = Path.Combine(parent.Path, "nope");

        var run = await CliRun.RunAsync("backup", "--data-directory", missing, "--out", Path.Combine(parent.Path, "b.db"));

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Usage));
        Assert.That(run.Error, Does.Contain($"the data directory \"{missing}\" does not exist"));
    }
}
