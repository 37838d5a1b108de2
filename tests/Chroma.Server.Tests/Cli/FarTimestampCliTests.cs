using System.Text.Json;
using Chroma.Protocol.V1;
using Chroma.Server.Cli;
using Chroma.Server.Storage.Sqlite;
using Chroma.Server.Tests.Storage;
using Chroma.Server.Tests.TestSupport;
using Chroma.Server.Validation;

namespace Chroma.Server.Tests.Cli;

/// <summary>
/// A record stored with a time after the year 9999 (older servers accepted one at ingest) stays readable: the client
/// reads it as <see cref="DateTimeOffset.MaxValue"/> and no command crashes on it.
/// </summary>
[TestFixture]
public sealed class FarTimestampCliTests
{
    // 10000-01-01T00:00:00Z: one millisecond after the last DateTimeOffset can hold.
    private const long AfterYear9999 = 253_402_300_800_000;

    private TempDirectory _directory = null!;
    private RunningServer _server = null!;
    private Record _far = null!;

    private string Endpoint => _server.Server.Endpoint.ToString();

    [OneTimeSetUp]
    [CancelAfter(60_000)]
    public async Task StartServer()
    {
        // Written to the store directly: the server's ingest may refuse such a time, but records already stored must read.
        _directory = new TempDirectory();
        var records = CliTestData.Build();
        _far = records.Last(r => r.Dataset == "production");
        _far.TimestampUnixMs = AfterYear9999;
        using (var store = SqliteRecordStore.Open(_directory.Path, TimeProvider.System))
        {
            await store.IngestAsync(SetDescriptorValidator.SetId(CliTestData.Set), CliTestData.Set, StoreFixture.Prepare(records)).WaitAsync(TimeSpan.FromSeconds(30));
        }

        _server = await RunningServer.StartAsync(_directory.Path);
    }

    [OneTimeTearDown]
    public async Task StopServer()
    {
        await _server.DisposeAsync();
        _directory.Dispose();
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Export_RecordAfterYear9999_EveryRecordExportedWithTheLatestTime()
    {
        var path = Path.Combine(_directory.Path, "all.jsonl");

        var run = await CliRun.RunAsync("export", "--endpoint", Endpoint, "--set", CliTestData.SetId, "--format", "jsonl", "--out", path, "--page-size", "7", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        var rows = (await File.ReadAllLinesAsync(path)).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.That(rows, Has.Count.EqualTo(CliTestData.TrainingCount + CliTestData.ProductionCount));
        var far = rows.Single(r => r.GetProperty("id").GetString() == _far.Id);
        Assert.That(far.GetProperty("timestampUnixMs").GetInt64(), Is.EqualTo(DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Neighbours_RecordAfterYear9999_Found()
    {
        var run = await CliRun.RunAsync("neighbours", "--endpoint", Endpoint, "--set", CliTestData.SetId, "--record", _far.Id, "--dataset", "all", "--include-self", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        var first = JsonDocument.Parse(run.Output).RootElement.GetProperty("neighbors")[0].GetProperty("record");
        Assert.That(first.GetProperty("id").GetString(), Is.EqualTo(_far.Id));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Recommend_RankedRecordAfterYear9999_Listed()
    {
        await using var proxy = await RecommendingProxy.StartAsync(_server.Query, _ => new GetRecommendationsResponse
        {
            ScoredRecords = 1,
            Recommendations = { new Recommendation { Record = new StoredRecord { Record = _far, SetId = CliTestData.SetId }, Score = 0.9 } },
        });

        var run = await CliRun.RunAsync("recommend", "--endpoint", proxy.Endpoint.ToString(), "--set", CliTestData.SetId, "--top", "1");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        Assert.That(run.Console, Does.Contain(_far.Id));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Report_RecordAfterYear9999_Written()
    {
        var path = Path.Combine(_directory.Path, "report.html");

        var run = await CliRun.RunAsync("report", "--endpoint", Endpoint, "--set", CliTestData.SetId, "--out", path, "--drift", "local", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        Assert.That(File.Exists(path), Is.True);
    }
}
