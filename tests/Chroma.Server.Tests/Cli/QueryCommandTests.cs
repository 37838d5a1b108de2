using System.Text.Json;
using Chroma.Protocol.V1;
using Chroma.Server.Cli;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Cli;

[TestFixture]
public sealed class QueryCommandTests
{
    private RunningServer _server = null!;
    private string _endpoint = null!;

    [OneTimeSetUp]
    [CancelAfter(60_000)]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync();
        _endpoint = _server.Server.Endpoint.ToString();
        await CliTestData.LogAsync(_server, CliTestData.Build());
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [Test]
    [CancelAfter(30_000)]
    public async Task Sets_Json_ListsTheSetWithCountsPerDataset()
    {
        var run = await CliRun.RunAsync("sets", "--endpoint", _endpoint, "--json");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        using var json = JsonDocument.Parse(run.Output);
        var set = json.RootElement.GetProperty("sets").EnumerateArray().Single();
        Assert.Multiple(() =>
        {
            Assert.That(set.GetProperty("setId").GetString(), Is.EqualTo(CliTestData.SetId));
            Assert.That(set.GetProperty("dimension").GetInt32(), Is.EqualTo(CliTestData.Dimension));
            Assert.That(set.GetProperty("totalRecords").GetInt64(), Is.EqualTo(CliTestData.TrainingCount + CliTestData.ProductionCount));
            Assert.That(set.GetProperty("datasets").GetProperty("training").GetInt64(), Is.EqualTo(CliTestData.TrainingCount));
            Assert.That(set.GetProperty("datasets").GetProperty("production").GetInt64(), Is.EqualTo(CliTestData.ProductionCount));
        });
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Sets_Table_ShowsSetIdAndRecordCount()
    {
        var run = await CliRun.RunAsync("sets", "--endpoint", _endpoint);

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        Assert.That(run.Console, Does.Contain(CliTestData.SetId).And.Contain("training 60").And.Contain("production 40"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Stats_Json_TotalsPerDatasetAndPerSet()
    {
        var run = await CliRun.RunAsync("stats", "--endpoint", _endpoint, "--json");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        using var json = JsonDocument.Parse(run.Output);
        var root = json.RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(root.GetProperty("sets").GetInt32(), Is.EqualTo(1));
            Assert.That(root.GetProperty("totalRecords").GetInt64(), Is.EqualTo(100));
            Assert.That(root.GetProperty("datasets").GetProperty("training").GetInt64(), Is.EqualTo(CliTestData.TrainingCount));
            Assert.That(root.GetProperty("perSet")[0].GetProperty("setId").GetString(), Is.EqualTo(CliTestData.SetId));
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Stats_PipedWithTheLongestDatasetName_ChartRowsNotWrapped()
    {
        // A dataset name may have 64 characters; the chart was 60 columns wide and wrapped it over three lines.
        await using var server = await RunningServer.StartAsync();
        var longName = new string('d', 64);
        var records = CliTestData.Build().Select(r => r.Clone()).ToList();
        foreach (var record in records.Where(r => r.Dataset == "production").Take(4))
        {
            record.Dataset = longName;
        }

        await CliTestData.LogAsync(server, records);

        var run = await CliRun.RunAsync("stats", "--endpoint", server.Server.Endpoint.ToString());

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        var chart = run.Console.Split('\n').TakeWhile(l => !l.Contains('┌', StringComparison.Ordinal)).ToList();
        Assert.That(chart.Where(l => l.Contains(longName + "  ", StringComparison.Ordinal) && l.TrimEnd().EndsWith(" 4", StringComparison.Ordinal)).ToList(), Has.Count.EqualTo(1), run.Console);
        Assert.That(chart.Where(l => l.Contains("ddd", StringComparison.Ordinal)).ToList(), Has.Count.EqualTo(1), "no wrapped rest of the name\n" + run.Console);
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Stats_Json_ManySetsAskedConcurrently_EverySetOnceInListOrderWithItsCoverage()
    {
        // Probe X, X11: the coverage of each set is asked eight at a time; the output keeps ListSets' order.
        await using var server = await RunningServer.StartAsync();
        var ids = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            var set = Records.Set(dimension: 4, model: $"stats{i:D2}");
            var training = Enumerable.Range(0, 6).Select(j => Records.Make([j % 2 == 0 ? 3 : -3, j, i, 1], "training", j % 2 == 0 ? "a" : "b"));
            var production = Enumerable.Range(0, 3).Select(j => Records.Make([j, -j, i, 0], "production"));
            await server.LogAsync(Records.Batch(set, [.. training, .. production]));
            ids.Add(Records.SetId(set));
        }

        foreach (var id in ids)
        {
            await server.Query.GetRecommendationsAsync(new GetRecommendationsRequest { SetId = id, WaitForAcknowledged = true, WaitTimeoutMs = 30_000 });
        }

        var run = await CliRun.RunAsync("stats", "--endpoint", server.Server.Endpoint.ToString(), "--json");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        var perSet = JsonDocument.Parse(run.Output).RootElement.GetProperty("perSet").EnumerateArray().ToList();
        var listed = (await server.Query.ListSetsAsync(new ListSetsRequest())).Sets.Select(s => s.SetId).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(perSet.Select(s => s.GetProperty("setId").GetString()), Is.EqualTo(listed));
            Assert.That(perSet.Select(s => s.GetProperty("scoredRecords").GetInt64()), Is.All.EqualTo(3), run.Output);
        });
    }

    [TestCase("recommend")]
    [TestCase("sets")]
    [TestCase("export")]
    [CancelAfter(30_000)]
    public async Task Command_Help_PrintsItsUsageWithoutCallingTheServer(string command)
    {
        // Nothing listens on port 1: a command that ran would exit 3 (or 2 for a missing --set).
        var run = await CliRun.RunAsync(command, "--help", "--endpoint", "http://127.0.0.1:1");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        Assert.That(run.Console, Does.StartWith($"chroma-server {command} "));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Stats_UnknownSet_UsageErrorNamingTheSet()
    {
        var run = await CliRun.RunAsync("stats", "--endpoint", _endpoint, "--set", "no/such/set");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Usage));
        Assert.That(run.Error, Does.Contain("--set 'no/such/set'"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Neighbours_ByVector_ReturnsKRecordsNearestFirst()
    {
        var run = await CliRun.RunAsync(
            "neighbours", "--endpoint", _endpoint, "--set", CliTestData.SetId, "--vector", "2,0,0,0,0,0,0,0", "--k", "5", "--dataset", "training", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        using var json = JsonDocument.Parse(run.Output);
        var neighbors = json.RootElement.GetProperty("neighbors").EnumerateArray().ToList();
        var distances = neighbors.Select(n => n.GetProperty("distance").GetSingle()).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(neighbors, Has.Count.EqualTo(5));
            Assert.That(distances, Is.Ordered);
            // The vector sits on the centre of class "1": every neighbour is a training record of that class.
            Assert.That(neighbors.Select(n => n.GetProperty("record").GetProperty("label").GetString()), Is.All.EqualTo("1"));
            Assert.That(neighbors.Select(n => n.GetProperty("record").GetProperty("dataset").GetString()), Is.All.EqualTo("training"));
        });
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Neighbours_BadVector_UsageErrorNamingTheOption()
    {
        var run = await CliRun.RunAsync("neighbours", "--endpoint", _endpoint, "--set", CliTestData.SetId, "--vector", "1,abc");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Usage));
        Assert.That(run.Error, Does.Contain("--vector").And.Contain("'abc'"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Neighbours_UnknownSet_ServerErrorWithItsMessage()
    {
        var run = await CliRun.RunAsync("neighbours", "--endpoint", _endpoint, "--set", "no/such/set", "--vector", "1,2");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.ServerError));
        Assert.That(run.Error, Does.Contain("NotFound"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Sets_NothingListening_ClearErrorAndNonZeroExit()
    {
        // A port that was free a moment ago: nothing answers there.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var run = await CliRun.RunAsync("sets", "--endpoint", $"http://127.0.0.1:{port}", "--timeout", "5");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Unreachable));
        Assert.That(run.Error, Does.Contain($"could not reach the Chroma server at http://127.0.0.1:{port}"));
    }

    [TestCase("sets", "--endpoint", "ftp://host", ExpectedResult = "--endpoint must be an http:// or https:// address (got 'ftp://host')")]
    [TestCase("export", "--set", "a/b/c", "--format", "xml", ExpectedResult = "--format must be csv or jsonl (got 'xml')")]
    [TestCase("export", "--format", "csv", ExpectedResult = "--set is required for 'export'")]
    [TestCase("recommend", "--set", "a/b/c", "--top", "0", ExpectedResult = "--top must be a whole number from 1 to 1000 (got '0')")]
    [TestCase("frobnicate", ExpectedResult = "unknown command 'frobnicate'")]
    [CancelAfter(30_000)]
    public async Task<string> Run_BadCommandLine_UsageExitAndMessageNamingTheOption(params string[] args)
    {
        var run = await CliRun.RunAsync(args);

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Usage));
        return run.Error.Replace("chroma-server: ", string.Empty, StringComparison.Ordinal).Split(". Run", StringSplitOptions.None)[0];
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Health_RunningServer_ServingAndExitZero()
    {
        var run = await CliRun.RunAsync("health", "--endpoint", _endpoint, "--json");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        Assert.That(JsonDocument.Parse(run.Output).RootElement.GetProperty("status").GetString(), Is.EqualTo("Serving"));
    }

    [TestCase("", ExpectedResult = false)]
    [TestCase("serve", ExpectedResult = false)]
    [TestCase("--Chroma:Port=6000", ExpectedResult = false)]
    [TestCase("sets", ExpectedResult = true)]
    [TestCase("report --set x", ExpectedResult = true)]
    [TestCase("help", ExpectedResult = true)]
    public bool IsCliCommand_Arguments_TellsCommandsFromServing(string commandLine) =>
        ChromaCli.IsCliCommand(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));
}
