using Chroma.Server.Tests.Storage;
using Chroma.Server.Validation;
using Chroma.Server.Storage.Sqlite;
using System.Text.Json;
using Chroma.Protocol.V1;
using Chroma.Server.Cli;
using Chroma.Server.Cli.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;
using Spectre.Console;

namespace Chroma.Server.Tests.Cli;

[TestFixture]
public sealed class CliUsabilityTests
{
    private RunningServer _server = null!;
    private string _endpoint = null!;
    private IReadOnlyList<Record> _records = null!;

    [OneTimeSetUp]
    [CancelAfter(60_000)]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync();
        _endpoint = _server.Server.Endpoint.ToString();
        _records = CliTestData.Build();
        await CliTestData.LogAsync(_server, _records);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [TestCase("stast", ExpectedResult = "unknown command 'stast' (did you mean 'stats'?)")]
    [TestCase("recomend", ExpectedResult = "unknown command 'recomend' (did you mean 'recommend'?)")]
    [TestCase("--verison", ExpectedResult = "unknown command '--verison' (did you mean '--version'?)")]
    [TestCase("neighbors", ExpectedResult = "unknown command 'neighbors' (did you mean 'neighbours'?)")]
    [TestCase("xyzzy", ExpectedResult = "unknown command 'xyzzy'")]
    [CancelAfter(30_000)]
    public async Task<string> Run_MistypedCommand_UsageExitSuggestingTheNearest(string word)
    {
        var run = await CliRun.RunAsync(word);

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Usage));
        Assert.That(run.Error.Trim().Split('\n'), Has.Length.EqualTo(1), "one line, no stack trace");
        return run.Error.Replace("chroma-server: ", string.Empty, StringComparison.Ordinal).Split(". Run", StringSplitOptions.None)[0];
    }

    [TestCase("stast", ExpectedResult = true)]
    [TestCase("--version", ExpectedResult = true)]
    [TestCase("--Chroma:Port", ExpectedResult = false)]
    [TestCase("Chroma:Port=6000", ExpectedResult = false)]
    public bool IsCliCommand_Word_UnknownWordsAreCommandsNotServerStarts(string word) => ChromaCli.IsCliCommand([word]);

    [Test]
    [CancelAfter(30_000)]
    public async Task Run_Version_PrintsVersionAndExitsZero()
    {
        var run = await CliRun.RunAsync("--version");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success));
        Assert.That(run.Output, Does.Match(@"^chroma-server \d+\.\d+\.\d+"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Run_Help_ListsEveryExitCode()
    {
        var run = await CliRun.RunAsync("help");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success));
        foreach (var (code, meaning) in CliExitCode.Meanings)
        {
            Assert.That(run.Console, Does.Contain(meaning[..20]), $"exit code {code}");
        }
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Neighbours_ByRecordId_TrainingByDefaultWithoutTheRecordItself()
    {
        var query = _records.First(r => r.Dataset == "training");

        var run = await CliRun.RunAsync("neighbours", "--endpoint", _endpoint, "--set", CliTestData.SetId, "--record", query.Id, "--k", "5", "--json");
        var withSelf = await CliRun.RunAsync("neighbours", "--endpoint", _endpoint, "--set", CliTestData.SetId, "--record", query.Id, "--k", "5", "--include-self", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        var found = Neighbours(run.Output);
        Assert.Multiple(() =>
        {
            Assert.That(found, Has.Count.EqualTo(5));
            Assert.That(found.Select(n => n.Id), Has.None.EqualTo(query.Id));
            Assert.That(found.Select(n => n.Dataset), Is.All.EqualTo("training"));
            Assert.That(Neighbours(withSelf.Output)[0].Id, Is.EqualTo(query.Id), "--include-self puts it first");
        });
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Neighbours_DatasetAll_SearchesEveryDataset()
    {
        var query = _records.First(r => r.Dataset == "production");

        var run = await CliRun.RunAsync("neighbours", "--endpoint", _endpoint, "--set", CliTestData.SetId, "--record", query.Id, "--k", "60", "--dataset", "all", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        Assert.That(Neighbours(run.Output).Select(n => n.Dataset).Distinct(), Is.EquivalentTo(new[] { "training", "production" }));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Sets_EndpointIsStudiosPort_UnreachableWithAHintAboutThePorts()
    {
        // Studio speaks HTTP/1.1 only; a gRPC call to it fails with HTTP_1_1_REQUIRED.
        var run = await CliRun.RunAsync("sets", "--endpoint", _server.Server.WebEndpoint!.ToString());

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Unreachable), run.Error);
            Assert.That(run.Error, Does.Contain("is not a Chroma gRPC endpoint").And.Contain("Chroma__Web__Port"));
        });
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Health_IngestService_ReportsReadiness()
    {
        var run = await CliRun.RunAsync("health", "--endpoint", _endpoint, "--service", "chroma.v1.Ingest", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        Assert.That(JsonDocument.Parse(run.Output).RootElement.GetProperty("status").GetString(), Is.EqualTo("Serving"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Health_UnknownService_SaysSoAndListsTheServicesThatHaveAStatus()
    {
        // Act
        var run = await CliRun.RunAsync("health", "--endpoint", _endpoint, "--service", "chroma.v1.Nope");

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.ServerError));
            Assert.That(run.Error, Does.Contain("no health status for the service 'chroma.v1.Nope'")
                .And.Contain("\"\" (the whole server").And.Contain("chroma.v1.Ingest").And.Contain("chroma.v1.Query"));
            Assert.That(run.Error.Trim().ReplaceLineEndings(" "), Is.EqualTo(run.Error.Trim()), "one line");
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Check_IntactAndDamagedDatabase_ExitCodeSaysWhich()
    {
        using var directory = new TempDirectory();
        using (var store = SqliteRecordStore.Open(directory.Path, TimeProvider.System))
        {
            var descriptor = Records.Set(dimension: 64);
            await store.IngestAsync(SetDescriptorValidator.SetId(descriptor), descriptor, StoreFixture.Prepare(Records.Sequence(400, dimension: 64))).WaitAsync(TimeSpan.FromSeconds(30));
        }

        var intact = await CliRun.RunAsync("check", "--data-directory", directory.Path, "--json");
        await using (var file = new FileStream(Path.Combine(directory.Path, SqliteRecordStore.FileName), FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = 4096 * 8;
            await file.WriteAsync(Enumerable.Repeat((byte)0x5A, 4096).ToArray());
        }

        var damaged = await CliRun.RunAsync("check", "--data-directory", directory.Path, "--full");

        Assert.Multiple(() =>
        {
            Assert.That(intact.ExitCode, Is.EqualTo(CliExitCode.Success), intact.Error);
            Assert.That(JsonDocument.Parse(intact.Output).RootElement.GetProperty("intact").GetBoolean(), Is.True);
            Assert.That(damaged.ExitCode, Is.EqualTo(CliExitCode.DatabaseDamaged));
            Assert.That(damaged.Console, Does.Contain("damaged").And.Contain(directory.Path));
        });
    }

    [TestCase(true, null, TestName = "Create_Redirected_PlainTextOnOneLine")]
    [TestCase(false, "1", TestName = "Create_NoColorSet_PlainText")]
    public void Create_RedirectedOrNoColor_NoEscapeCodesAndNoWrapping(bool redirected, string? noColor)
    {
        var output = new StringWriter();
        var console = CliConsole.Create(output, redirected, noColor);
        var id = "digits/1.0/fc2 " + string.Join(" ", Enumerable.Range(0, 4).Select(_ => Guid.NewGuid().ToString()));

        console.MarkupLine("[red]damaged[/] [bold]{0}[/]", Markup.Escape(id));
        console.Write(new Table().AddColumn("record").AddColumn("set").AddRow(Guid.NewGuid().ToString(), Markup.Escape(id)));

        var text = output.ToString();
        Assert.Multiple(() =>
        {
            Assert.That(text, Does.Not.Contain("\u001b["), "no ANSI escape codes");
            if (redirected)
            {
                // A terminal keeps its width; a pipe gets every row on one line.
                Assert.That(text, Does.Contain(id), "long ids are not cut or wrapped");
            }
        });
    }

    [Test]
    public void WriteTitled_Redirected_LongTitleOnOneLine()
    {
        var output = new StringWriter();
        var console = CliConsole.Create(output, redirected: true, noColor: null);
        var title = "Top 0 of 0 ranked records in probe/1/fc (1,500 pending) " + new string('x', 200);

        console.WriteTitled(title, new Table().AddColumn("#").AddColumn("record"));

        Assert.That(output.ToString().Split('\n')[0].TrimEnd(), Is.EqualTo(title));
    }

    private static List<(string Id, string Dataset)> Neighbours(string json) =>
        [.. JsonDocument.Parse(json).RootElement.GetProperty("neighbors").EnumerateArray()
            .Select(n => (n.GetProperty("record").GetProperty("id").GetString()!, n.GetProperty("record").GetProperty("dataset").GetString()!))];
}
