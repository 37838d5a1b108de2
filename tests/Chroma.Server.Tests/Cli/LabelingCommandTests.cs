using System.Globalization;
using System.Text.Json;
using Chroma.Protocol.V1;
using Chroma.Server.Cli;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Cli;

/// <summary>label, review, promote and export-labels against a real server.</summary>
[TestFixture]
public sealed class LabelingCommandTests
{
    private static readonly EmbeddingSetDescriptor Set = Records.Set(dimension: 3, model: "cli-labels");
    private static readonly string SetId = Records.SetId(Set);

    [Test]
    [CancelAfter(60_000)]
    public async Task LabelReviewPromoteExport_OneLoop_ExportHoldsTheLabeledRecordsWithTheirAudit()
    {
        await using var server = await RunningServer.StartAsync();
        using var folder = new TempDirectory();
        var endpoint = server.Server.Endpoint.ToString();
        var training = Enumerable.Range(0, 6).Select(i => Records.Make([i, 1, 0], "training", i % 2 == 0 ? "a" : "b")).ToArray();
        var production = Enumerable.Range(0, 3).Select(i => Records.Make([10 + i, 0.5f, 0.25f], "production")).ToArray();
        Assert.That((await server.LogAsync(Records.Batch(Set, training), Records.Batch(Set, production))).Select(a => a.Error), Has.All.Null);

        var label = await CliRun.RunAsync("label", "--endpoint", endpoint, "--set", SetId, "--id", production[0].Id, "--label", "c", "--reviewer", "ada", "--note", "new, \"odd\" class", "--json");
        var dismiss = await CliRun.RunAsync("review", "--endpoint", endpoint, "--set", SetId, "--ids", production[1].Id, "--state", "dismissed", "--reviewer", "bob", "--json");
        var promote = await CliRun.RunAsync("promote", "--endpoint", endpoint, "--set", SetId, "--by", "carol", "--json");
        var csvPath = Path.Combine(folder.Path, "labels.csv");
        var csv = await CliRun.RunAsync("export-labels", "--endpoint", endpoint, "--set", SetId, "--format", "csv", "--out", csvPath, "--json");
        var jsonl = await CliRun.RunAsync("export-labels", "--endpoint", endpoint, "--set", SetId, "--format", "jsonl");

        Assert.That(new[] { label, dismiss, promote, csv, jsonl }.Select(r => r.ExitCode), Has.All.EqualTo(CliExitCode.Success), label.Error + dismiss.Error + promote.Error + csv.Error + jsonl.Error);
        Assert.That(JsonDocument.Parse(dismiss.Output).RootElement.GetProperty("updated").GetInt64(), Is.EqualTo(1));
        var promoted = JsonDocument.Parse(promote.Output).RootElement.GetProperty("promoted");
        Assert.That(promoted.GetArrayLength(), Is.EqualTo(1));
        var trainingId = promoted[0].GetProperty("trainingId").GetString();

        var lines = await File.ReadAllLinesAsync(csvPath);
        Assert.That(lines, Has.Length.EqualTo(2), "header and the one labeled record");
        Assert.That(lines[0], Is.EqualTo("id,set_id,dataset,sequence,input_uri,predicted_class,label,labeled_by,note,labeled_unix_ms,review_state,promoted_record_id,promoted_by,promoted_unix_ms,e0,e1,e2"));
        Assert.That(lines[1], Does.StartWith($"{production[0].Id},{SetId},production,"));
        Assert.That(lines[1], Does.Contain(",c,ada,\"new, \"\"odd\"\" class\","));
        Assert.That(lines[1], Does.Contain($",reviewed,{trainingId},carol,"));
        Assert.That(lines[1], Does.EndWith(string.Join(',', production[0].Embedding.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))));

        var row = JsonDocument.Parse(jsonl.Output.Trim()).RootElement;
        Assert.That(row.GetProperty("id").GetString(), Is.EqualTo(production[0].Id));
        Assert.That(row.GetProperty("label").GetString(), Is.EqualTo("c"));
        Assert.That(row.GetProperty("labeledBy").GetString(), Is.EqualTo("ada"));
        Assert.That(row.GetProperty("promotedBy").GetString(), Is.EqualTo("carol"));
        Assert.That(row.GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()), Is.EqualTo(production[0].Embedding));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task ExportLabels_CsvOfASetWithNoLabels_TheHeaderWithTheSetsEmbeddingColumns()
    {
        await using var server = await RunningServer.StartAsync();
        var production = Enumerable.Range(0, 2).Select(i => Records.Make([i, 0.5f, 0.25f], "production")).ToArray();
        Assert.That((await server.LogAsync(Records.Batch(Set, production))).Select(a => a.Error), Has.All.Null);

        var run = await CliRun.RunAsync("export-labels", "--endpoint", server.Server.Endpoint.ToString(), "--set", SetId, "--format", "csv");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        Assert.That(run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[]
        {
            "id,set_id,dataset,sequence,input_uri,predicted_class,label,labeled_by,note,labeled_unix_ms,review_state,promoted_record_id,promoted_by,promoted_unix_ms,e0,e1,e2",
        }));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Review_UnknownState_UsageErrorNamingTheOption()
    {
        var run = await CliRun.RunAsync("review", "--endpoint", "http://127.0.0.1:1", "--set", SetId, "--ids", Guid.CreateVersion7().ToString(), "--state", "maybe", "--reviewer", "ada");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Usage));
        Assert.That(run.Error, Does.Contain("--state must be reviewed, dismissed or unreviewed (got 'maybe')"));
    }

    [TestCase("")]
    [TestCase(" , ,")]
    [CancelAfter(60_000)]
    public async Task Promote_IdsThatNameNoRecord_UsageErrorAndNothingPromoted(string ids)
    {
        // `promote --ids "$IDS"` with IDS empty: an empty list on the wire means "every label not promoted yet".
        await using var server = await RunningServer.StartAsync();
        var endpoint = server.Server.Endpoint.ToString();
        var production = Enumerable.Range(0, 2).Select(i => Records.Make([10 + i, 0.5f, 0.25f], "production")).ToArray();
        Assert.That((await server.LogAsync(Records.Batch(Set, production))).Select(a => a.Error), Has.All.Null);
        foreach (var record in production)
        {
            var label = await CliRun.RunAsync("label", "--endpoint", endpoint, "--set", SetId, "--id", record.Id, "--label", "c", "--reviewer", "ada");
            Assert.That(label.ExitCode, Is.EqualTo(CliExitCode.Success), label.Error);
        }

        var promote = await CliRun.RunAsync("promote", "--endpoint", endpoint, "--set", SetId, "--by", "carol", "--ids", ids, "--json");
        var labels = await CliRun.RunAsync("export-labels", "--endpoint", endpoint, "--set", SetId, "--format", "jsonl");

        Assert.That(promote.ExitCode, Is.EqualTo(CliExitCode.Usage), promote.Output);
        Assert.That(promote.Error, Does.Contain("--ids"));
        Assert.That(labels.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.TryGetProperty("promotedBy", out _)), Has.All.False, "no label was promoted");
    }
}
