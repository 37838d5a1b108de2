using System.Text.Json;
using Chroma.Server.Cli.Internal;
using Chroma.Server.Validation;
using Spectre.Console;

namespace Chroma.Server.Cli.Commands;

/// <summary>
/// <c>import</c>: records from a JSON-lines file (the format <c>export --format jsonl</c> writes)
/// into a set, in acknowledged batches. Records keep their ids, so importing a file twice stores
/// each record once. The import stops at the first rejected batch, unless <c>--skip-invalid</c>: then records the
/// server refuses as invalid are skipped (each listed with its line and reason) and the rest is stored. A new set is
/// created with the distance metric the file's lines carry (or <c>--metric</c>); an existing set must have that metric.
/// </summary>
internal sealed class ImportCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "import";

    /// <inheritdoc />
    public string Usage => "import --set MODEL/VERSION/LAYER --in FILE.jsonl [--metric l2|cosine] [--batch-size 500] [--skip-invalid] [--json]";

    // Skipped records listed one by one on the console (all of them go into --json's output).
    private const int SkippedShown = 20;

    /// <inheritdoc />
    public async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var arguments = context.Arguments;
        var (model, version, layer) = ParseSet(arguments.Require("set"));
        var path = arguments.Require("in");
        var batchSize = arguments.GetInt("batch-size", 500, 1, 10_000);
        if (!File.Exists(path))
        {
            throw new CliUsageException($"--in '{path}' does not exist");
        }

        var (records, fileMetric) = ReadRecords(path);
        if (records.Count == 0)
        {
            throw new CliUsageException($"--in '{path}' holds no records");
        }

        var setId = $"{model}/{version}/{layer}";
        var metric = await ChooseMetricAsync(context, setId, path, fileMetric, cancellationToken).ConfigureAwait(false);

        // Named explicitly (not left Unspecified): a set another client creates meanwhile with the other metric refuses the batch.
        var set = new EmbeddingSetDescriptor(model, version, layer, records[0].Embedding.Length) { Metric = metric };
        var options = new ImportOptions { BatchSize = batchSize, SkipInvalidRecords = arguments.Get("skip-invalid") is not null };
        ImportResult outcome;
        if (arguments.Json)
        {
            outcome = await context.Client.ImportAsync(set, records, options, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            outcome = await context.Console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask("import", maxValue: records.Count);
                    options.Progress = new ImmediateProgress(n => task.Increment(n));
                    return await context.Client.ImportAsync(set, records, options, cancellationToken).ConfigureAwait(false);
                }).ConfigureAwait(false);
        }

        var error = outcome.Error is null ? null
            : outcome.ErrorIsRecord ? $"{outcome.Error} (record {outcome.ErrorRecordIndex + 1} of the file)"
            : $"{outcome.Error} (the batch starting at record {outcome.ErrorRecordIndex + 1} of the file)";
        var skipped = outcome.Skipped.Select(r => new { line = r.Index + 1, r.Id, r.Message }).ToList();

        // --skip-invalid with every line refused stored nothing: a failure, not a success with a list of skips.
        var allRefused = error is null && skipped.Count == records.Count;
        if (allRefused)
        {
            error = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"every record of the file ({records.Count:N0}) was refused as invalid; nothing was imported");
        }
        if (arguments.Json)
        {
            await CliJson.WriteLineAsync(context.Output, new { setId, metric = MetricText.Of(metric), records = records.Count, outcome.Accepted, outcome.Duplicates, Skipped = skipped, Error = error }).ConfigureAwait(false);
        }
        else
        {
            foreach (var record in skipped.Take(SkippedShown))
            {
                context.Console.MarkupLine("[yellow]Skipped line {0:N0}[/] (id {1}): {2}", record.line, Markup.Escape(record.Id), Markup.Escape(record.Message));
            }

            if (skipped.Count > SkippedShown)
            {
                context.Console.MarkupLine("[yellow]... and {0:N0} more skipped lines[/] (--json lists them all)", skipped.Count - SkippedShown);
            }

            if (allRefused)
            {
                context.Console.MarkupLine("[red]Nothing imported:[/] {0}", Markup.Escape(error!));
            }
            else if (outcome.Error is null)
            {
                context.Console.MarkupLine(
                    "Imported [bold]{0:N0}[/] records into {1}, {2} ({3:N0} already there{4})",
                    outcome.Accepted,
                    Markup.Escape(setId),
                    MetricText.Of(metric),
                    outcome.Duplicates,
                    skipped.Count > 0 ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $", {skipped.Count:N0} invalid skipped") : string.Empty);
            }
            else
            {
                // The batches before it are stored: say so, or a partial import reads as if nothing was stored.
                context.Console.MarkupLine(
                    "[red]The server rejected a batch:[/] {0}; {1:N0} records before it were stored ({2:N0} already there), none after it",
                    Markup.Escape(error!),
                    outcome.Accepted,
                    outcome.Duplicates);
            }
        }

        // With --json the error is in the JSON object, the only thing on standard output.
        return error is null ? CliExitCode.Success : CliExitCode.ServerError;
    }

    // Fields only export-labels writes (LabeledRecordView), in JSON's camelCase.
    private static readonly string[] LabelExportFields = ["labeledBy", "reviewState", "labeledUnixMs", "promotedUnixMs"];

    private static (string Model, string Version, string Layer) ParseSet(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 3 || parts.Any(p => p.Length == 0))
        {
            throw new CliUsageException($"--set must be MODEL/VERSION/LAYER (got '{text}')");
        }

        return (parts[0], parts[1], parts[2]);
    }

    /// <summary>
    /// The metric the set is created with: the file's (or <c>--metric</c>, which must agree with it); an existing set keeps
    /// its own, which must be the same. A cosine set created as L2 (the default of a set created without one) would answer
    /// FindNearest and the recommendations' neighbour signals by the wrong distance, and nothing would say so.
    /// </summary>
    private static async Task<DistanceMetric> ChooseMetricAsync(
        CliContext context, string setId, string path, FileMetric? inFile, CancellationToken cancellationToken)
    {
        DistanceMetric? asked = null;
        if (context.Arguments.Get("metric") is { } text)
        {
            asked = MetricText.TryParse(text, out var parsed) ? parsed : throw new CliUsageException($"--metric must be {MetricText.Choices} (got '{text}')");
        }

        if (asked is { } option && inFile is { } file && option != file.Metric)
        {
            throw new CliUsageException(
                $"--metric {MetricText.Of(option)} disagrees with '{path}', whose records come from a {MetricText.Of(file.Metric)} set (line {file.Line}); "
                + "leave --metric out to import them with the metric they were exported with");
        }

        var wanted = asked ?? inFile?.Metric;
        var sets = await context.Client.ListSetsAsync(cancellationToken).ConfigureAwait(false);
        if (sets.FirstOrDefault(s => s.SetId == setId) is { } existing)
        {
            var has = existing.Descriptor.Metric == DistanceMetric.Cosine ? DistanceMetric.Cosine : DistanceMetric.L2;
            if (wanted is { } metric && metric != has)
            {
                var source = asked is null ? $"'{path}' holds records of a {MetricText.Of(metric)} set (line {inFile!.Value.Line})" : $"--metric is {MetricText.Of(metric)}";
                throw new CliUsageException(
                    $"{setId} already exists with metric {MetricText.Of(has)}, and {source}: a set's metric is fixed when it is created; "
                    + "import into a new set (another --set) to keep the records' metric");
            }

            return has;
        }

        return wanted ?? throw new CliUsageException(
            $"'{path}' does not say which distance metric its set uses (exports by earlier versions of chroma-server do not), and {setId} "
            + "does not exist yet: pass --metric l2 or --metric cosine, the metric of the set it was exported from ('chroma-server sets' on that server lists it)");
    }

    private static (List<ImportRecord> Records, FileMetric? Metric) ReadRecords(string path)
    {
        var records = new List<ImportRecord>();
        FileMetric? metric = null;
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var view = ReadLine(line, lineNumber, path);
            metric = ReadMetric(view, metric, lineNumber, path);
            records.Add(ToRecord(view, lineNumber, path));
        }

        return (records, metric);
    }

    // Lines without a metric (an export by an earlier version) take the others'; two metrics in one file are two sets.
    private static FileMetric? ReadMetric(RecordView view, FileMetric? known, int lineNumber, string path)
    {
        if (view.Metric is null)
        {
            return known;
        }

        if (!MetricText.TryParse(view.Metric, out var metric))
        {
            throw new CliUsageException($"line {lineNumber} of '{path}' has metric '{view.Metric}': export writes {MetricText.Choices}");
        }

        if (known is { } first && first.Metric != metric)
        {
            throw new CliUsageException(
                $"line {lineNumber} of '{path}' has metric {MetricText.Of(metric)}, line {first.Line} {MetricText.Of(first.Metric)}: "
                + "a set has one metric, so these records come from two sets; import each set's export on its own");
        }

        return known ?? new FileMetric(metric, lineNumber);
    }

    // One line of export's JSONL; other JSON (export-labels' lines, a CSV row, a JSON array) is refused naming the line.
    private static RecordView ReadLine(string line, int lineNumber, string path)
    {
        var where = $"line {lineNumber} of '{path}'";
        const string WhatImportReads = "import reads the JSONL that 'export --format jsonl' writes";
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new CliUsageException($"{where} is not a JSON object: {WhatImportReads}");
            }

            // export-labels writes a reviewer's label with its audit; imported, the label would pass for ground truth.
            if (LabelExportFields.FirstOrDefault(f => root.TryGetProperty(f, out _)) is { } field)
            {
                throw new CliUsageException($"{where} looks like an export-labels file (it has '{field}'): {WhatImportReads}");
            }

            return Deserialize(root, where);
        }
        catch (JsonException ex)
        {
            throw new CliUsageException($"{where} is not a JSON object: {WhatImportReads}", ex);
        }
    }

    // A JSON object whose field has the wrong type ("embedding": "x") names the field, not the whole line.
    private static RecordView Deserialize(JsonElement root, string where)
    {
        try
        {
            return root.Deserialize<RecordView>(CliJson.Options) ?? throw new CliUsageException($"{where} is empty");
        }
        catch (JsonException ex)
        {
            var field = ex.Path is { Length: > 2 } jsonPath && jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..] : ex.Path;
            throw new CliUsageException($"{where}: '{field}' has the wrong type or form for export's JSONL (an embedding is an array of numbers, a timestamp a whole number)", ex);
        }
    }

    private static ImportRecord ToRecord(RecordView view, int lineNumber, string path)
    {
        if (view.Embedding is not { Count: > 0 })
        {
            throw new CliUsageException($"line {lineNumber} of '{path}' has no embedding: import reads the JSONL that 'export --format jsonl' writes");
        }

        // The server's own bounds (years 1-9999): a time outside them is refused there, and no date can hold it here.
        if (view.TimestampUnixMs is < RecordValidator.MinTimestampUnixMs or > RecordValidator.MaxTimestampUnixMs)
        {
            throw new CliUsageException($"line {lineNumber} of '{path}' has timestampUnixMs {view.TimestampUnixMs}, outside the years 1-9999");
        }

        return new ImportRecord
        {
            // A record without an id gets a fresh UUIDv7, as the client library would give it. The timestamp is the file's,
            // 0 included (the protocol's "unknown", which export writes for a record stored so, and a missing one reads as):
            // the time of the import in its place made the imported record differ from the exported one, so importing the
            // same file again conflicted.
            Id = string.IsNullOrEmpty(view.Id) ? null : view.Id,
            Dataset = string.IsNullOrEmpty(view.Dataset) ? ChromaDatasets.Production : view.Dataset,
            Embedding = view.Embedding.ToArray(),
            InputUri = view.InputUri,
            Label = view.Label,
            PredictedClass = view.PredictedClass,
            ClassProbabilities = view.ClassProbabilities?.ToArray() ?? default(ReadOnlyMemory<float>),
            ClassNames = view.ClassNames,
            Metadata = view.Metadata,
            Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(view.TimestampUnixMs),
        };
    }

    /// <summary>The metric the file's lines carry, and the first line that said so (for messages).</summary>
    private readonly record struct FileMetric(DistanceMetric Metric, int Line);

    /// <summary>Reports progress on the importing thread (<see cref="Progress{T}"/> would post it elsewhere, late).</summary>
    private sealed class ImmediateProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
