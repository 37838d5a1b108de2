using System.Text.Json;
using Chroma.Protocol.V1;
using Chroma.Server.Cli.Internal;
using Spectre.Console;

namespace Chroma.Server.Cli.Commands;

/// <summary>
/// <c>import</c>: records from a JSON-lines file (the format <c>export --format jsonl</c> writes)
/// into a set, in acknowledged batches. Records keep their ids, so importing a file twice stores
/// each record once.
/// </summary>
internal sealed class ImportCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "import";

    /// <inheritdoc />
    public string Usage => "import --set MODEL/VERSION/LAYER --in FILE.jsonl [--batch-size 500] [--json]";

    /// <inheritdoc />
    public async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var arguments = context.Arguments;
        var set = ParseSet(arguments.Require("set"));
        var path = arguments.Require("in");
        var batchSize = arguments.GetInt("batch-size", 500, 1, 10_000);
        if (!File.Exists(path))
        {
            throw new CliUsageException($"--in '{path}' does not exist");
        }

        var records = ReadRecords(path);
        if (records.Count == 0)
        {
            throw new CliUsageException($"--in '{path}' holds no records");
        }

        set.Dimension = records[0].Embedding.Count;
        var uploader = new BatchUploader(context.CreateIngestClient(), context);
        ImportOutcome outcome;
        if (arguments.Json)
        {
            outcome = await uploader.UploadAsync(set, records, batchSize, _ => { }, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            outcome = await context.Console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask("import", maxValue: records.Count);
                    return await uploader.UploadAsync(set, records, batchSize, n => task.Increment(n), cancellationToken).ConfigureAwait(false);
                }).ConfigureAwait(false);
        }

        var setId = $"{set.Model}/{set.ModelVersion}/{set.Layer}";
        if (arguments.Json)
        {
            await CliJson.WriteLineAsync(context.Output, new { setId, records = records.Count, outcome.Accepted, outcome.Duplicates, outcome.Error }).ConfigureAwait(false);
        }
        else if (outcome.Error is null)
        {
            context.Console.MarkupLine("Imported [bold]{0:N0}[/] records into {1} ({2:N0} already there)", outcome.Accepted, Markup.Escape(setId), outcome.Duplicates);
        }

        if (outcome.Error is not null)
        {
            context.Console.MarkupLine("[red]The server rejected a batch:[/] {0}", Markup.Escape(outcome.Error));
            return CliExitCode.ServerError;
        }

        return CliExitCode.Success;
    }

    private static EmbeddingSetDescriptor ParseSet(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 3 || parts.Any(p => p.Length == 0))
        {
            throw new CliUsageException($"--set must be MODEL/VERSION/LAYER (got '{text}')");
        }

        return new EmbeddingSetDescriptor { Model = parts[0], ModelVersion = parts[1], Layer = parts[2] };
    }

    private static List<Record> ReadRecords(string path)
    {
        var records = new List<Record>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            RecordView? view;
            try
            {
                view = JsonSerializer.Deserialize<RecordView>(line, CliJson.Options);
            }
            catch (JsonException ex)
            {
                throw new CliUsageException($"--in line {lineNumber} is not a JSON record: {ex.Message}", ex);
            }

            records.Add(ToRecord(view ?? throw new CliUsageException($"--in line {lineNumber} is empty"), lineNumber));
        }

        return records;
    }

    private static Record ToRecord(RecordView view, int lineNumber)
    {
        if (view.Embedding is not { Count: > 0 })
        {
            throw new CliUsageException($"--in line {lineNumber} has no embedding");
        }

        var record = new Record
        {
            // A record without an id gets a fresh UUIDv7, as the client library would give it.
            Id = string.IsNullOrEmpty(view.Id) ? Guid.CreateVersion7().ToString() : view.Id,
            Dataset = string.IsNullOrEmpty(view.Dataset) ? "production" : view.Dataset,
            InputUri = view.InputUri ?? string.Empty,
            Label = view.Label ?? string.Empty,
            TimestampUnixMs = view.TimestampUnixMs > 0 ? view.TimestampUnixMs : DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        };
        record.Embedding.AddRange(view.Embedding);
        if (view.PredictedClass is not null || view.ClassProbabilities is not null)
        {
            record.Inference = new Inference { PredictedClass = view.PredictedClass ?? string.Empty };
            record.Inference.ClassProbabilities.AddRange(view.ClassProbabilities ?? []);
        }

        if (view.Metadata is not null)
        {
            record.Metadata.Add(view.Metadata.ToDictionary());
        }

        return record;
    }
}
