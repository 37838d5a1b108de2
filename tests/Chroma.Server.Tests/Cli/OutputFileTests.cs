using Chroma.Server.Cli;
using Chroma.Server.Cli.Internal;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Cli;

/// <summary>The <c>--out</c> file: checked before any call to a server, written in full or not at all.</summary>
[TestFixture]
public sealed class OutputFileTests
{
    // Nothing listens on port 1: a command that called the server would exit 3 (unreachable), not 2.
    private const string NoServer = "http://127.0.0.1:1";

    [TestCase("export", "--format", "csv")]
    [TestCase("export-labels", "--format", "jsonl")]
    [TestCase("report")]
    [CancelAfter(30_000)]
    public async Task Run_OutInMissingFolder_UsageExitNamingOutBeforeCallingTheServer(params string[] command)
    {
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "missing", "out.file");

        var run = await CliRun.RunAsync([.. command, "--endpoint", NoServer, "--set", "m/1/fc", "--out", path]);

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Usage), run.Error);
        Assert.That(run.Error, Does.Contain($"--out '{path}': the folder '{Path.Combine(folder.Path, "missing")}' does not exist"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task WriteAsync_WriteFails_NoPartialFileAndTheEarlierFileKept()
    {
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "set.jsonl");
        await File.WriteAllTextAsync(path, "earlier\n");

        var failed = Assert.ThrowsAsync<InvalidOperationException>(() => OutputFile.WriteAsync<long>(path, async file =>
        {
            await file.WriteLineAsync("first page");
            await file.FlushAsync();
            throw new InvalidOperationException("the second page failed");
        }));

        Assert.That(failed!.Message, Is.EqualTo("the second page failed"));
        Assert.That(await File.ReadAllTextAsync(path), Is.EqualTo("earlier\n"));
        Assert.That(Directory.GetFiles(folder.Path), Is.EqualTo(new[] { path }), "no temporary file left");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task WriteAsync_WriteCompletes_FileHoldsWhatWasWritten()
    {
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "set.jsonl");

        var written = await OutputFile.WriteAsync(path, async file =>
        {
            await file.WriteLineAsync("one");
            return 1L;
        });

        Assert.That(written, Is.EqualTo(1));
        Assert.That(await File.ReadAllTextAsync(path), Is.EqualTo("one" + Environment.NewLine));
        Assert.That(Directory.GetFiles(folder.Path), Is.EqualTo(new[] { path }));
    }

    [Test]
    [CancelAfter(30_000)]
    [Platform(Exclude = "Win", Reason = "Unix file modes")]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task WriteAsync_OnUnix_FileIsOwnerOnlyWhateverTheEarlierFileWas()
    {
        // An export holds records, labels, reviewers and notes: 0600 like the server's own data files (probe S, S7).

        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "set.csv");
        await File.WriteAllTextAsync(path, "earlier\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        await OutputFile.WriteAsync(path, async file =>
        {
            await file.WriteLineAsync("one");
            return 1L;
        });

        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    [CancelAfter(30_000)]
    [Platform(Exclude = "Win", Reason = "Unix links")]
    public async Task WriteAsync_PathIsALinkToAFile_WritesTheTargetAndKeepsTheLink()
    {
        // Probe X, X3: the rename replaced the link (as root, '--out /dev/stdout' replaced the system's link with a file).
        using var folder = new TempDirectory();
        var target = Path.Combine(folder.Path, "target.csv");
        await File.WriteAllTextAsync(target, "earlier, longer than what is written\n");
        var link = Path.Combine(folder.Path, "link.csv");
        File.CreateSymbolicLink(link, target);

        await OutputFile.WriteAsync(link, async file =>
        {
            await file.WriteLineAsync("one");
            return 1L;
        });

        Assert.Multiple(() =>
        {
            Assert.That(new FileInfo(link).LinkTarget, Is.EqualTo(target), "still a link");
            Assert.That(File.ReadAllText(target), Is.EqualTo("one" + Environment.NewLine), "the target was truncated and written");
            Assert.That(Directory.GetFiles(folder.Path).Order(), Is.EqualTo(new[] { link, target }), "no temporary file");
        });
    }

    [Test]
    [CancelAfter(30_000)]
    [Platform(Include = "Linux", Reason = "mkfifo")]
    public async Task WriteAsync_PathIsANamedPipe_ItsReaderGetsTheOutput(CancellationToken cancellationToken)
    {
        using var folder = new TempDirectory();
        var pipe = Path.Combine(folder.Path, "out.csv");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [pipe]))
        {
            await mkfifo.WaitForExitAsync(cancellationToken);
            Assert.That(mkfifo.ExitCode, Is.Zero);
        }

        var reader = Task.Run(() => File.ReadAllTextAsync(pipe, cancellationToken), cancellationToken);
        await OutputFile.WriteAsync(pipe, async file =>
        {
            await file.WriteLineAsync("one");
            return 1L;
        });

        Assert.Multiple(async () =>
        {
            Assert.That(await reader, Is.EqualTo("one" + Environment.NewLine), "written into the pipe, not over it");
            Assert.That(Directory.GetFiles(folder.Path), Is.EqualTo(new[] { pipe }), "no temporary file");
        });
    }

    [Test]
    [Platform(Include = "Linux", Reason = "/dev/null and /proc")]
    public void WritesThrough_DevicesLinksAndEmptyFiles_NotAFileWithContentOrAMissingOne()
    {
        using var folder = new TempDirectory();
        var full = Path.Combine(folder.Path, "full.csv");
        File.WriteAllText(full, "x");
        var empty = Path.Combine(folder.Path, "empty.csv");
        File.WriteAllText(empty, string.Empty);

        Assert.Multiple(() =>
        {
            Assert.That(OutputFile.WritesThrough("/dev/null"), Is.True);
            Assert.That(OutputFile.WritesThrough("/dev/stdout"), Is.True);
            Assert.That(OutputFile.WritesThrough(empty), Is.True);
            Assert.That(OutputFile.WritesThrough(full), Is.False);
            Assert.That(OutputFile.WritesThrough(Path.Combine(folder.Path, "missing.csv")), Is.False);
        });
    }
}
