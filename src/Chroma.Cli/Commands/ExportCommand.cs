using Chroma.Server.Cli.Internal;
using Spectre.Console;

namespace Chroma.Server.Cli.Commands;

/// <summary><c>export</c>: every record of a set (with embeddings) as CSV or JSON lines, to a file or standard output.</summary>
internal sealed class ExportCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "export";

    /// <inheritdoc />
    public string Usage => "export --set SET --format csv|jsonl [--dataset NAME] [--out FILE] [--page-size 500] [--json]";

    /// <inheritdoc />
    public async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var arguments = context.Arguments;
        var target = ExportTarget.Read(arguments);
        var dataset = arguments.Get("dataset");
        var pageSize = arguments.GetInt("page-size", 500, 1, 1000);
        var set = (await context.Client.ListSetsAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(s => s.SetId == target.SetId);
        if (dataset is not null && set is not null && !set.Datasets.Any(d => d.Dataset == dataset))
        {
            // Not an error (a dataset may be filled later), but an empty export is more often a typo.
            await context.Error.WriteLineAsync(
                $"chroma-server: warning: {target.SetId} holds no dataset '{dataset}' (it holds {string.Join(", ", set.Datasets.Select(d => d.Dataset))}); the export is empty").ConfigureAwait(false);
        }

        var dimension = set?.Descriptor.Dimension ?? 0;

        // On each JSON line, so a file cut, filtered or joined line by line still says how its set measures distance.
        var metric = set is null ? null : MetricText.Of(set.Descriptor.Metric);
        var total = await context.Client.CountAsync(target.SetId, dataset, cancellationToken: cancellationToken).ConfigureAwait(false);
        return await target.WriteAsync(context, "records", async (output, toFile) =>
        {
            if (!toFile || arguments.Json)
            {
                return await ExportAsync(context, output, target.Csv ? dimension : null, metric, target.SetId, dataset, pageSize, _ => { }, cancellationToken).ConfigureAwait(false);
            }

            return await context.Console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask(Markup.Escape($"export {target.SetId}"), maxValue: Math.Max(1, total));
                    var count = await ExportAsync(context, output, target.Csv ? dimension : null, metric, target.SetId, dataset, pageSize, n => task.Increment(n), cancellationToken).ConfigureAwait(false);
                    task.Value = task.MaxValue;
                    return count;
                }).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    private static async Task<long> ExportAsync(
        CliContext context,
        TextWriter output,
        int? csvDimension,
        string? metric,
        string setId,
        string? dataset,
        int pageSize,
        Action<int> onPage,
        CancellationToken cancellationToken)
    {
        var csvWriter = csvDimension is { } dimension ? new CsvRecordWriter(output, dimension) : null;
        long written = 0;
        var query = new RecordQuery { Dataset = dataset, PageSize = pageSize, IncludeEmbeddings = true };
        do
        {
            var page = await context.Client.GetRecordsAsync(setId, query, cancellationToken).ConfigureAwait(false);
            foreach (var read in page.Records)
            {
                var record = RecordView.From(read);
                if (csvWriter is not null)
                {
                    await csvWriter.WriteAsync(record).ConfigureAwait(false);
                }
                else
                {
                    await CliJson.WriteLineAsync(output, record with { Metric = metric }).ConfigureAwait(false);
                }
            }

            written += page.Records.Count;
            onPage(page.Records.Count);
            query.PageToken = page.NextPageToken;
        }
        while (query.PageToken is not null);

        if (csvWriter is not null)
        {
            // No records: the header alone, so the file still reads as a table.
            await csvWriter.WriteHeaderAsync().ConfigureAwait(false);
        }

        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return written;
    }
}
