using System.Text.Json;
using Chroma.Server.Cli;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Cli;

[TestFixture]
public sealed class ImportCommandTests
{
    [Test]
    [CancelAfter(60_000)]
    public async Task Import_ExportedJsonl_SecondServerHoldsTheSameRecordsAndReimportStoresNothingNew()
    {
        await using var source = await RunningServer.StartAsync();
        await using var target = await RunningServer.StartAsync();
        using var folder = new TempDirectory();
        await CliTestData.LogAsync(source, CliTestData.Build());
        var exported = Path.Combine(folder.Path, "source.jsonl");
        var copied = Path.Combine(folder.Path, "target.jsonl");
        await CliRun.RunAsync("export", "--endpoint", source.Server.Endpoint.ToString(), "--set", CliTestData.SetId, "--format", "jsonl", "--out", exported, "--json");

        var first = await CliRun.RunAsync("import", "--endpoint", target.Server.Endpoint.ToString(), "--set", CliTestData.SetId, "--in", exported, "--batch-size", "30", "--json");
        var again = await CliRun.RunAsync("import", "--endpoint", target.Server.Endpoint.ToString(), "--set", CliTestData.SetId, "--in", exported);
        await CliRun.RunAsync("export", "--endpoint", target.Server.Endpoint.ToString(), "--set", CliTestData.SetId, "--format", "jsonl", "--out", copied, "--json");

        Assert.That(first.ExitCode, Is.EqualTo(CliExitCode.Success), first.Error + first.Console);
        Assert.That(JsonDocument.Parse(first.Output).RootElement.GetProperty("accepted").GetInt64(), Is.EqualTo(100));
        Assert.That(again.ExitCode, Is.EqualTo(CliExitCode.Success), again.Error + again.Console);
        Assert.That(again.Console, Does.Contain("Imported 0 records").And.Contain("100 already there"));
        // Same records, same content; only the server-side sequence numbers may differ.
        Assert.That(Comparable(copied), Is.EqualTo(Comparable(exported)));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Import_ExportOfClassNamesAndTimestampsOfZeroAndBefore1970_KeptExactlyAndReimportStoresNothing()
    {
        // Arrange: class names in the order ML.NET's key column gives them (the largest probability is class "7"), and
        // timestamps the import used to replace with its own time (0, the protocol's "unknown", and before 1970).
        await using var source = await RunningServer.StartAsync();
        await using var target = await RunningServer.StartAsync();
        using var folder = new TempDirectory();
        var records = new[] { 0L, -5L, 1_700_000_000_000L }.Select((unixMs, i) =>
        {
            var record = Records.Make([i, 1, 2, 3], "production");
            record.TimestampUnixMs = unixMs;
            record.Inference = new Protocol.V1.Inference { PredictedClass = "7", ClassProbabilities = { 0.9f, 0.1f, 0f }, ClassNames = { "7", "2", "1" } };
            return record;
        }).ToArray();
        var acks = await source.LogAsync(Records.Batch(Records.Set(dimension: 4), records));
        Assert.That(acks.Select(a => a.Error), Has.All.Null);
        var set = Records.SetId(Records.Set(dimension: 4));
        var exported = Path.Combine(folder.Path, "source.jsonl");
        var copied = Path.Combine(folder.Path, "target.jsonl");
        await CliRun.RunAsync("export", "--endpoint", source.Server.Endpoint.ToString(), "--set", set, "--format", "jsonl", "--out", exported);

        // Act
        var first = await CliRun.RunAsync("import", "--endpoint", target.Server.Endpoint.ToString(), "--set", set, "--in", exported);
        var again = await CliRun.RunAsync("import", "--endpoint", target.Server.Endpoint.ToString(), "--set", set, "--in", exported);
        await CliRun.RunAsync("export", "--endpoint", target.Server.Endpoint.ToString(), "--set", set, "--format", "jsonl", "--out", copied);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(File.ReadAllText(exported), Does.Contain("\"classNames\":[\"7\",\"2\",\"1\"]"));
            Assert.That(first.ExitCode, Is.EqualTo(CliExitCode.Success), first.Error + first.Console);
            Assert.That(again.ExitCode, Is.EqualTo(CliExitCode.Success), again.Error + again.Console);
            Assert.That(again.Console, Does.Contain("Imported 0 records").And.Contain("3 already there"));
            Assert.That(Comparable(copied), Is.EqualTo(Comparable(exported)), "ids, timestamps, probabilities and class names alike");
        });
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Import_LineWithoutEmbedding_UsageErrorNamingTheLine()
    {
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "bad.jsonl");
        await File.WriteAllLinesAsync(path, ["{\"dataset\":\"training\",\"embedding\":[1,2]}", "{\"dataset\":\"training\"}"]);

        var run = await CliRun.RunAsync("import", "--endpoint", "http://127.0.0.1:1", "--set", "m/1/fc", "--in", path);

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Usage));
        Assert.That(run.Error, Does.Contain($"line 2 of '{path}' has no embedding"));
    }

    [TestCase(253_402_300_800_000L)]
    [TestCase(-62_135_596_800_001L)]
    [CancelAfter(30_000)]
    public async Task Import_TimestampOutsideTheYearsADateHolds_UsageErrorNamingTheLine(long unixMs)
    {
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "far.jsonl");
        await File.WriteAllLinesAsync(path, ["{\"dataset\":\"training\",\"embedding\":[1,2]}", $"{{\"dataset\":\"training\",\"timestampUnixMs\":{unixMs},\"embedding\":[1,2]}}"]);

        var run = await CliRun.RunAsync("import", "--endpoint", "http://127.0.0.1:1", "--set", "m/1/fc", "--in", path);

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Usage));
        Assert.That(run.Error, Does.Contain($"line 2 of '{path}' has timestampUnixMs {unixMs}, outside the years 1-9999"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Import_CsvFile_UsageErrorSayingImportReadsExportsJsonl()
    {
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "all.csv");
        await File.WriteAllLinesAsync(path, ["id,set_id,dataset,sequence", "a,m/1/fc,training,1"]);

        var run = await CliRun.RunAsync("import", "--endpoint", "http://127.0.0.1:1", "--set", "m/1/fc", "--in", path);

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Usage));
        Assert.That(run.Error, Does.Contain($"line 1 of '{path}' is not a JSON object: import reads the JSONL that 'export --format jsonl' writes"));
        Assert.That(run.Error, Does.Not.Contain("BytePositionInLine"));
    }

    [TestCase("{\"id\":\"0190a1b2-0000-7000-8000-000000000001\",\"embedding\":\"x\"}", "embedding")]
    [TestCase("{\"id\":\"0190a1b2-0000-7000-8000-000000000001\",\"timestampUnixMs\":\"soon\",\"embedding\":[1]}", "timestampUnixMs")]
    [CancelAfter(30_000)]
    public async Task Import_FieldOfTheWrongType_UsageErrorNamingTheLineAndTheField(string line, string field)
    {
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "records.jsonl");
        await File.WriteAllLinesAsync(path, [line]);

        var run = await CliRun.RunAsync("import", "--endpoint", "http://127.0.0.1:1", "--set", "m/1/fc", "--in", path);

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Usage));
        Assert.That(run.Error, Does.Contain($"line 1 of '{path}': '{field}' has the wrong type or form"));
        Assert.That(run.Error, Does.Not.Contain("BytePositionInLine"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Import_ExportLabelsFile_UsageErrorNamingTheLineAndTheFileKind()
    {
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "labels.jsonl");
        await File.WriteAllLinesAsync(path,
        [
            "{\"id\":\"0190a1b2-0000-7000-8000-000000000001\",\"setId\":\"m/1/fc\",\"dataset\":\"production\",\"sequence\":3,\"label\":\"7\","
                + "\"labeledBy\":\"ada\",\"labeledUnixMs\":1700000000000,\"reviewState\":\"reviewed\",\"promotedUnixMs\":0,\"embedding\":[1,2]}",
        ]);

        var run = await CliRun.RunAsync("import", "--endpoint", "http://127.0.0.1:1", "--set", "m/1/fc", "--in", path);

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Usage));
        Assert.That(run.Error, Does.Contain($"line 1 of '{path}' looks like an export-labels file (it has 'labeledBy')"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Import_RejectedWithJson_StandardOutputIsOneJsonObject()
    {
        await using var server = await RunningServer.StartAsync();
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "mixed.jsonl");
        await File.WriteAllLinesAsync(path, ["{\"dataset\":\"training\",\"embedding\":[1,2]}", "{\"dataset\":\"training\",\"embedding\":[1,2,3]}"]);

        var run = await CliRun.RunAsync("import", "--endpoint", server.Server.Endpoint.ToString(), "--set", "m/1/fc", "--in", path, "--metric", "l2", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.ServerError));
        using var document = JsonDocument.Parse(run.Output);
        Assert.That(document.RootElement.GetProperty("error").GetString(), Does.Contain("record 2 of the file"));
        Assert.That(run.Console, Does.Not.Contain("rejected"), "no human text beside the JSON");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Import_WrongDimension_ServerRejectionReportedWithTheRecord()
    {
        await using var server = await RunningServer.StartAsync();
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "mixed.jsonl");
        await File.WriteAllLinesAsync(path, ["{\"dataset\":\"training\",\"embedding\":[1,2]}", "{\"dataset\":\"training\",\"embedding\":[1,2,3]}"]);

        var run = await CliRun.RunAsync("import", "--endpoint", server.Server.Endpoint.ToString(), "--set", "m/1/fc", "--in", path, "--metric", "l2");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.ServerError));
        Assert.That(run.Console, Does.Contain("rejected").And.Contain("record 2 of the file"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Import_RejectedAfterEarlierBatchesWereStored_SaysHowManyWereStored()
    {
        // Batches before the rejected one are stored: the message must not read as if nothing was.
        await using var server = await RunningServer.StartAsync();
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "mixed.jsonl");
        await File.WriteAllLinesAsync(path,
        [
            $"{{\"id\":\"{Guid.CreateVersion7()}\",\"dataset\":\"training\",\"embedding\":[1,2]}}",
            $"{{\"id\":\"{Guid.CreateVersion7()}\",\"dataset\":\"training\",\"embedding\":[3,4]}}",
            $"{{\"id\":\"{Guid.CreateVersion7()}\",\"dataset\":\"training\",\"embedding\":[1,2,3]}}",
        ]);

        var run = await CliRun.RunAsync("import", "--endpoint", server.Server.Endpoint.ToString(), "--set", "m/1/fc", "--in", path, "--metric", "l2", "--batch-size", "1");
        var stored = (await server.Query.ListSetsAsync(new Chroma.Protocol.V1.ListSetsRequest())).Sets.Single().TotalRecords;

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.ServerError));
        Assert.That(stored, Is.EqualTo(2), "the two batches before the rejected one");
        Assert.That(run.Console, Does.Contain("record 3 of the file").And.Contain("2 records").And.Contain("stored"));
    }

    [TestCase(false)]
    [TestCase(true)]
    [CancelAfter(30_000)]
    public async Task Import_SkipInvalid_InvalidLinesListedWithTheirReasonsTheRestStored(bool json)
    {
        // Arrange: lines 2 (another dimension) and 4 (a label over the server's 1,024 characters) are invalid; batches of 2.
        await using var server = await RunningServer.StartAsync();
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "mixed.jsonl");
        var longLabel = new string('x', 2_000);
        await File.WriteAllLinesAsync(path,
        [
            "{\"dataset\":\"training\",\"label\":\"a\",\"embedding\":[1,2]}",
            "{\"dataset\":\"training\",\"label\":\"a\",\"embedding\":[1,2,3]}",
            "{\"dataset\":\"training\",\"label\":\"b\",\"embedding\":[3,4]}",
            $"{{\"dataset\":\"training\",\"label\":\"{longLabel}\",\"embedding\":[5,6]}}",
            "{\"dataset\":\"training\",\"label\":\"b\",\"embedding\":[7,8]}",
        ]);
        string[] arguments = ["import", "--endpoint", server.Server.Endpoint.ToString(), "--set", "m/1/fc", "--in", path, "--metric", "l2", "--batch-size", "2", "--skip-invalid"];

        // Act
        var run = await CliRun.RunAsync(json ? [.. arguments, "--json"] : arguments);

        // Assert
        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error + run.Console);
        var stored = await server.Query.CountRecordsAsync(new Protocol.V1.CountRecordsRequest { SetId = "m/1/fc" });
        Assert.That(stored.Count, Is.EqualTo(3));
        if (json)
        {
            using var document = JsonDocument.Parse(run.Output);
            var skipped = document.RootElement.GetProperty("skipped").EnumerateArray().ToList();
            Assert.Multiple(() =>
            {
                Assert.That(document.RootElement.GetProperty("accepted").GetInt64(), Is.EqualTo(3));
                Assert.That(skipped.Select(r => r.GetProperty("line").GetInt64()), Is.EqualTo(new[] { 2L, 4L }));
                Assert.That(skipped[0].GetProperty("message").GetString(), Does.Contain("dimension"));
                Assert.That(skipped[1].GetProperty("message").GetString(), Does.Contain("label"));
                Assert.That(document.RootElement.TryGetProperty("error", out _), Is.False, "no error: the import went to the end");
            });
        }
        else
        {
            Assert.That(run.Console, Does.Contain("Skipped line 2").And.Contain("Skipped line 4").And.Contain("Imported 3 records").And.Contain("2 invalid skipped"));
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    [CancelAfter(30_000)]
    public async Task Import_SkipInvalidWithEveryLineRefused_FailsSayingNothingWasImported(bool json)
    {
        // Arrange: every line carries a label over the server's 1,024 characters.
        await using var server = await RunningServer.StartAsync();
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "refused.jsonl");
        var longLabel = new string('x', 2_000);
        await File.WriteAllLinesAsync(path,
        [
            $"{{\"dataset\":\"training\",\"label\":\"{longLabel}\",\"embedding\":[1,2]}}",
            $"{{\"dataset\":\"training\",\"label\":\"{longLabel}\",\"embedding\":[3,4]}}",
        ]);
        string[] arguments = ["import", "--endpoint", server.Server.Endpoint.ToString(), "--set", "m/1/fc", "--in", path, "--metric", "l2", "--skip-invalid"];

        // Act
        var run = await CliRun.RunAsync(json ? [.. arguments, "--json"] : arguments);

        // Assert: a failure that says so, not "Imported 0 records" with exit code 0.
        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.ServerError), run.Error + run.Console);
        if (json)
        {
            using var document = JsonDocument.Parse(run.Output);
            Assert.That(document.RootElement.GetProperty("error").GetString(), Does.Contain("every record of the file (2) was refused"));
            Assert.That(document.RootElement.GetProperty("skipped").GetArrayLength(), Is.EqualTo(2));
        }
        else
        {
            Assert.That(run.Console, Does.Contain("Nothing imported").And.Contain("every record of the file (2) was refused").And.Contain("Skipped line 2"));
        }
    }

    private static List<string> Comparable(string path) =>
        File.ReadAllLines(path)
            .Select(line => JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(line)!)
            .Select(row =>
            {
                row.Remove("sequence");
                return JsonSerializer.Serialize(row);
            })
            .Order(StringComparer.Ordinal)
            .ToList();
}
