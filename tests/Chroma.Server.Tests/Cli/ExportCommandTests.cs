using System.Globalization;
using System.Text.Json;
using Chroma.Protocol.V1;
using Chroma.Server.Cli;
using Chroma.Server.Cli.Internal;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Cli;

[TestFixture]
public sealed class ExportCommandTests
{
    private RunningServer _server = null!;
    private TempDirectory _folder = null!;
    private Dictionary<string, Record> _logged = null!;

    [OneTimeSetUp]
    [CancelAfter(60_000)]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync();
        _folder = new TempDirectory();
        var records = CliTestData.Build();
        _logged = records.ToDictionary(r => r.Id);
        await CliTestData.LogAsync(_server, records);
    }

    [OneTimeTearDown]
    public async Task StopServer()
    {
        await _server.DisposeAsync();
        _folder.Dispose();
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Export_CsvOfDatasetTheSetDoesNotHold_HeaderOnlyAndAWarning()
    {
        var run = await CliRun.RunAsync("export", "--endpoint", Endpoint, "--set", CliTestData.SetId, "--format", "csv", "--dataset", "nosuch");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        Assert.That(run.Output.TrimEnd().Split('\n'), Is.EqualTo(new[] { string.Join(',', CsvRecordWriter.Header(CliTestData.Dimension)) }));
        Assert.That(run.Error, Does.Contain("warning: " + CliTestData.SetId + " holds no dataset 'nosuch' (it holds"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Export_Jsonl_EveryRecordRoundTripsExactly()
    {
        var path = Path.Combine(_folder.Path, "set.jsonl");

        // A small page size makes the export follow several page tokens.
        var run = await CliRun.RunAsync("export", "--endpoint", Endpoint, "--set", CliTestData.SetId, "--format", "jsonl", "--out", path, "--page-size", "7", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        Assert.That(JsonDocument.Parse(run.Output).RootElement.GetProperty("records").GetInt64(), Is.EqualTo(_logged.Count));
        var lines = await File.ReadAllLinesAsync(path);
        Assert.That(lines, Has.Length.EqualTo(_logged.Count));
        foreach (var line in lines)
        {
            var row = JsonDocument.Parse(line).RootElement;
            var original = _logged[row.GetProperty("id").GetString()!];
            Assert.That(row.GetProperty("dataset").GetString(), Is.EqualTo(original.Dataset));
            Assert.That(row.GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()), Is.EqualTo(original.Embedding));
            Assert.That(row.TryGetProperty("label", out var label) ? label.GetString() : string.Empty, Is.EqualTo(original.Label));
            Assert.That(row.TryGetProperty("inputUri", out var uri) ? uri.GetString() : string.Empty, Is.EqualTo(original.InputUri));
            var metadata = row.TryGetProperty("metadata", out var m) ? m.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!) : [];
            Assert.That(metadata, Is.EquivalentTo(original.Metadata));
        }
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Export_Csv_HeaderAndEveryRecordRoundTripExactly()
    {
        var path = Path.Combine(_folder.Path, "set.csv");

        var run = await CliRun.RunAsync("export", "--endpoint", Endpoint, "--set", CliTestData.SetId, "--format", "csv", "--out", path);

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        Assert.That(run.Console, Does.Contain("Exported 100 records"));
        var rows = CsvText.Parse(await File.ReadAllTextAsync(path));
        var header = rows[0];
        Assert.That(header.Take(3), Is.EqualTo(new[] { "id", "set_id", "dataset" }));
        Assert.That(header.Count(h => h.StartsWith('e') && int.TryParse(h.AsSpan(1), out _)), Is.EqualTo(CliTestData.Dimension));
        Assert.That(rows, Has.Count.EqualTo(_logged.Count + 1));
        var column = header.Select((name, index) => (name, index)).ToDictionary(c => c.name, c => c.index);
        foreach (var row in rows.Skip(1))
        {
            var original = _logged[row[column["id"]]];
            var embedding = Enumerable.Range(0, CliTestData.Dimension).Select(d => float.Parse(row[column["e" + d]], CultureInfo.InvariantCulture));
            Assert.That(embedding, Is.EqualTo(original.Embedding));
            Assert.That(row[column["dataset"]], Is.EqualTo(original.Dataset));
            Assert.That(row[column["label"]], Is.EqualTo(original.Label));
            var metadata = row[column["metadata"]];
            Assert.That(metadata.Length == 0 ? [] : JsonSerializer.Deserialize<Dictionary<string, string>>(metadata), Is.EquivalentTo(original.Metadata));
        }
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Export_ToStandardOutputWithDatasetFilter_OnlyThatDataset()
    {
        var run = await CliRun.RunAsync("export", "--endpoint", Endpoint, "--set", CliTestData.SetId, "--format", "jsonl", "--dataset", "production");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(CliTestData.ProductionCount));
        Assert.That(lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("dataset").GetString()), Is.All.EqualTo("production"));
    }

    private string Endpoint => _server.Server.Endpoint.ToString();
}
