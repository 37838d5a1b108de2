using System.Runtime.Versioning;
using Chroma.Protocol.V1;
using Chroma.Server.Hosting.Internal;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Chroma.Server.Tests.Hosting;

/// <summary>
/// The data directory a server creates, and every file it writes there, are its own user's only (probe S, S7: under
/// umask 022 they were 0755 and 0644, so every local user could read every record, label and note).
/// </summary>
[TestFixture]
[Platform(Exclude = "Win", Reason = "Unix file modes")]
[UnsupportedOSPlatform("windows")]
public sealed class DataDirectoryPermissionsTests
{
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private static readonly EmbeddingSetDescriptor Set = Records.Set(model: "permissions");

    [Test, CancelAfter(120_000)]
    public async Task Start_DataDirectoryMissing_FolderAndEveryFileTheServerWritesOwnerOnly(CancellationToken cancellationToken)
    {
        // Arrange: a umask that lets others read what is created (the usual 022), and a data directory yet to be made.
        using var temp = new TempDirectory();
        AssumeUmaskLetsOthersRead(temp.Path);
        var data = Path.Combine(temp.Path, "var", "chroma");
        Dictionary<string, UnixFileMode> running;

        // Act: a start, records logged, indexed (HNSW from the first record, so its file is written) and ranked, a stop.
        await using (var server = await RunningServer.StartAsync(Configure, data))
        {
            var acks = await server.LogAsync(Records.Batch(Set, Seed()));
            Assert.That(acks.Select(a => a.Error), Has.All.Null);
            var ranked = await server.Query.GetRecommendationsAsync(
                new GetRecommendationsRequest { SetId = Records.SetId(Set), PageSize = 10, WaitForAcknowledged = true, WaitTimeoutMs = 30_000 },
                deadline: DateTime.UtcNow.AddSeconds(60),
                cancellationToken: cancellationToken);
            Assert.That(ranked.Recommendations, Is.Not.Empty);
            running = Modes(data);
        }

        var stopped = Modes(data);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(running.Keys, Is.SupersetOf(new[] { ".", "chroma.db", "chroma.db-wal", "chroma.db-shm", "chroma.lock" }));
            Assert.That(stopped.Keys, Is.SupersetOf(new[] { ".", "chroma.db", "chroma.lock", "clean-shutdown", "indexes", "rankings" }));
            Assert.That(stopped.Keys.Where(k => k.StartsWith("indexes/", StringComparison.Ordinal)), Is.Not.Empty, "an index file was saved");
            Assert.That(stopped.Keys.Where(k => k.StartsWith("rankings/", StringComparison.Ordinal)), Is.Not.Empty, "a ranking file was saved");
            foreach (var (name, mode) in running.Concat(stopped))
            {
                var expected = name == "." || Directory.Exists(Path.Combine(data, name)) ? OwnerOnlyFolder : OwnerOnlyFile;
                Assert.That(mode, Is.EqualTo(expected), name);
            }
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Start_DataDirectoryTheOperatorMadeOpen_ModeLeftAsItWasAndReportedOpen()
    {
        // Arrange: a directory an operator made 0755.
        using var temp = new TempDirectory();
        var data = Path.Combine(temp.Path, "shared");
        var operatorMode = OwnerOnlyFolder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        Directory.CreateDirectory(data, operatorMode);
        File.SetUnixFileMode(data, operatorMode);

        // Act
        UnixFileMode after, database;
        bool reportedOpen;
        await using (var server = await RunningServer.StartAsync(Configure, data))
        {
            reportedOpen = server.Server.Services.GetRequiredService<DataDirectoryLock>().OpenToOthers;
            after = File.GetUnixFileMode(data);
            database = File.GetUnixFileMode(Path.Combine(data, "chroma.db"));
        }

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(after, Is.EqualTo(operatorMode), "the operator's directory keeps its mode");
            Assert.That(reportedOpen, Is.True, "the start logs a warning about it");
            Assert.That(database, Is.EqualTo(OwnerOnlyFile), "files the server creates in it are still its own");
        });
    }

    private static void Configure(Chroma.Server.Hosting.ChromaServerOptions options)
    {
        options.Web.Port = 0;
        options.Indexing.ExactSearchThreshold = 0;
    }

    // The modes of the directory (".") and of everything in it, by path relative to it.
    private static Dictionary<string, UnixFileMode> Modes(string directory) =>
        Directory.EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories)
            .ToDictionary(p => Path.GetRelativePath(directory, p).Replace('\\', '/'), File.GetUnixFileMode)
            .Append(new KeyValuePair<string, UnixFileMode>(".", File.GetUnixFileMode(directory)))
            .ToDictionary();

    // With a umask that already hides new files from others, the test would pass whatever the server does.
    private static void AssumeUmaskLetsOthersRead(string folder)
    {
        var probe = Path.Combine(folder, "umask-probe");
        File.WriteAllText(probe, string.Empty);
        var mode = File.GetUnixFileMode(probe);
        File.Delete(probe);
        Assume.That(mode & UnixFileMode.OtherRead, Is.EqualTo(UnixFileMode.OtherRead), "the umask already keeps new files from others");
    }

    // Two labelled classes in training, production around them.
    private static Record[] Seed() =>
    [
        .. Enumerable.Range(0, 30).Select(i => Records.Make([i % 2 == 0 ? 5 : -5, (i % 7) * 0.3f, (i % 5) * 0.2f, 0], "training", i % 2 == 0 ? "a" : "b")),
        .. Enumerable.Range(0, 30).Select(i => Records.Make([(i % 11) - 5, (i % 7) * 0.5f, i % 3 == 0 ? 6 : 0, i * 0.05f], "production")),
    ];
}
