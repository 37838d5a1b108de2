using System.Text.Json;
using Chroma.Protocol.V1;
using Chroma.Server.Cli;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Cli;

/// <summary>
/// <c>export --format jsonl</c> then <c>import</c> (the README's way from SQLite to PostgreSQL) keeps the set's distance
/// metric: a cosine set imported as L2 would answer FindNearest by the wrong distance, without a word.
/// </summary>
[TestFixture]
public sealed class ImportMetricTests
{
    private const string LineWithoutMetric = "{\"dataset\":\"training\",\"embedding\":[1,2]}";

    [Test]
    [CancelAfter(60_000)]
    public async Task Import_ExportOfCosineSet_TargetSetIsCosine()
    {
        // Arrange
        await using var source = await RunningServer.StartAsync();
        await using var target = await RunningServer.StartAsync();
        using var folder = new TempDirectory();
        var set = CosineSet();
        await LogAsync(source, set, 20);
        var exported = Path.Combine(folder.Path, "cosine.jsonl");
        var export = await CliRun.RunAsync("export", "--endpoint", source.Server.Endpoint.ToString(), "--set", Records.SetId(set), "--format", "jsonl", "--out", exported);
        Assert.That(export.ExitCode, Is.EqualTo(CliExitCode.Success), export.Error + export.Console);

        // Act
        var run = await CliRun.RunAsync("import", "--endpoint", target.Server.Endpoint.ToString(), "--set", Records.SetId(set), "--in", exported);

        // Assert
        var imported = await SingleSetAsync(target);
        Assert.Multiple(() =>
        {
            Assert.That(
                File.ReadAllLines(exported).Select(line => JsonDocument.Parse(line).RootElement.GetProperty("metric").GetString()),
                Has.All.EqualTo("cosine"),
                "each line names its set's metric");
            Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error + run.Console);
            Assert.That(run.Console, Does.Contain("Imported 20 records into model/1/fc, cosine"));
            Assert.That(imported.Metric, Is.EqualTo(DistanceMetric.Cosine));
            Assert.That(imported.Descriptor_.Metric, Is.EqualTo(DistanceMetric.Cosine));
            Assert.That(imported.TotalRecords, Is.EqualTo(20));
        });
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Import_FileWithoutMetricIntoNewSet_UsageErrorNamingMetricOptionAndNothingCreated()
    {
        // Arrange: an export by an earlier version, whose lines carry no metric.
        await using var target = await RunningServer.StartAsync();
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "old.jsonl");
        await File.WriteAllLinesAsync(path, [LineWithoutMetric, LineWithoutMetric.Replace("[1,2]", "[3,4]", StringComparison.Ordinal)]);

        // Act
        var run = await CliRun.RunAsync("import", "--endpoint", target.Server.Endpoint.ToString(), "--set", "m/1/fc", "--in", path);

        // Assert
        var sets = await target.Query.ListSetsAsync(new ListSetsRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Usage), run.Error + run.Console);
            Assert.That(run.Error, Does.Contain($"'{path}' does not say which distance metric").And.Contain("--metric l2 or --metric cosine"));
            Assert.That(sets.Sets, Is.Empty, "no set was created as L2 by default");
        });
    }

    [TestCase("cosine")]
    [TestCase("l2")]
    [CancelAfter(30_000)]
    public async Task Import_FileWithoutMetricAndMetricOption_NewSetHasThatMetric(string option)
    {
        var expected = option == "cosine" ? DistanceMetric.Cosine : DistanceMetric.L2;
        await using var target = await RunningServer.StartAsync();
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "old.jsonl");
        await File.WriteAllLinesAsync(path, [LineWithoutMetric]);

        var run = await CliRun.RunAsync("import", "--endpoint", target.Server.Endpoint.ToString(), "--set", "m/1/fc", "--in", path, "--metric", option, "--json");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error + run.Console);
        Assert.That(JsonDocument.Parse(run.Output).RootElement.GetProperty("metric").GetString(), Is.EqualTo(option));
        Assert.That((await SingleSetAsync(target)).Metric, Is.EqualTo(expected));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Import_FileWithoutMetricIntoExistingCosineSet_StoredInIt()
    {
        // Arrange: the set exists, so its metric is known; an old export may go on filling it.
        await using var target = await RunningServer.StartAsync();
        using var folder = new TempDirectory();
        var set = CosineSet(dimension: 2);
        await LogAsync(target, set, 3);
        var path = Path.Combine(folder.Path, "old.jsonl");
        await File.WriteAllLinesAsync(path, [LineWithoutMetric]);

        // Act
        var run = await CliRun.RunAsync("import", "--endpoint", target.Server.Endpoint.ToString(), "--set", Records.SetId(set), "--in", path);

        // Assert
        var stored = await SingleSetAsync(target);
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error + run.Console);
            Assert.That(run.Console, Does.Contain("Imported 1 records into model/1/fc, cosine"));
            Assert.That(stored.Metric, Is.EqualTo(DistanceMetric.Cosine));
            Assert.That(stored.TotalRecords, Is.EqualTo(4));
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Import_CosineExportIntoExistingL2Set_RefusedNamingBothMetricsAndNothingStored()
    {
        // Arrange: the target already has the set id as L2 (same dimension).
        await using var source = await RunningServer.StartAsync();
        await using var target = await RunningServer.StartAsync();
        using var folder = new TempDirectory();
        var set = CosineSet();
        await LogAsync(source, set, 5);
        var l2 = set.Clone();
        l2.Metric = DistanceMetric.L2;
        await LogAsync(target, l2, 2, start: 100);
        var exported = Path.Combine(folder.Path, "cosine.jsonl");
        await CliRun.RunAsync("export", "--endpoint", source.Server.Endpoint.ToString(), "--set", Records.SetId(set), "--format", "jsonl", "--out", exported);

        // Act
        var run = await CliRun.RunAsync("import", "--endpoint", target.Server.Endpoint.ToString(), "--set", Records.SetId(set), "--in", exported);

        // Assert
        var stored = await SingleSetAsync(target);
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Usage), run.Error + run.Console);
            Assert.That(run.Error, Does.Contain("model/1/fc already exists with metric l2").And.Contain("records of a cosine set"));
            Assert.That(stored.Metric, Is.EqualTo(DistanceMetric.L2));
            Assert.That(stored.TotalRecords, Is.EqualTo(2), "nothing imported");
        });
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Import_MetricOptionDisagreeingWithTheFile_UsageErrorNamingBoth()
    {
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "cosine.jsonl");
        await File.WriteAllLinesAsync(path, ["{\"dataset\":\"training\",\"embedding\":[1,2],\"metric\":\"cosine\"}"]);

        var run = await CliRun.RunAsync("import", "--endpoint", "http://127.0.0.1:1", "--set", "m/1/fc", "--in", path, "--metric", "l2");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Usage));
        Assert.That(run.Error, Does.Contain($"--metric l2 disagrees with '{path}', whose records come from a cosine set (line 1)"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Import_FileWithTwoMetrics_UsageErrorNamingBothLines()
    {
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "joined.jsonl");
        await File.WriteAllLinesAsync(path,
        [
            "{\"dataset\":\"training\",\"embedding\":[1,2],\"metric\":\"l2\"}",
            LineWithoutMetric,
            "{\"dataset\":\"training\",\"embedding\":[1,2],\"metric\":\"cosine\"}",
        ]);

        var run = await CliRun.RunAsync("import", "--endpoint", "http://127.0.0.1:1", "--set", "m/1/fc", "--in", path);

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Usage));
        Assert.That(run.Error, Does.Contain($"line 3 of '{path}' has metric cosine, line 1 l2"));
    }

    private static EmbeddingSetDescriptor CosineSet(int dimension = 4)
    {
        var set = Records.Set(dimension);
        set.Metric = DistanceMetric.Cosine;
        return set;
    }

    private static async Task LogAsync(RunningServer server, EmbeddingSetDescriptor set, int count, int start = 1)
    {
        // From 1: an all-zero embedding has no direction, and a cosine set refuses it.
        var acks = await server.LogAsync(Records.Batch(set, Records.Sequence(count, set.Dimension, start)));
        Assert.That(acks.Select(a => a.Error), Has.All.Null);
    }

    private static async Task<EmbeddingSetInfo> SingleSetAsync(RunningServer server)
    {
        var sets = await server.Query.ListSetsAsync(new ListSetsRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
        return sets.Sets.Single();
    }
}
