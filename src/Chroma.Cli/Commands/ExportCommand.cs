using System.Text;
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
        var setId = arguments.Require("set");
        var format = arguments.Require("format");
        if (format is not ("csv" or "jsonl"))
        {
            throw new CliUsageException($"--format must be csv or jsonl (got '{format}')");
        }

        var dataset = arguments.Get("dataset");
        var pageSize = arguments.GetInt("page-size", 500, 1, 1000);
        var path = arguments.Get("out");
        var total = await context.Client.CountAsync(setId, dataset, cancellationToken: cancellationToken).ConfigureAwait(false);

        long written;
        if (path is null)
        {
            // Standard output carries the data itself: no progress bar, no summary.
            await ExportAsync(context, context.Output, format, setId, dataset, pageSize, _ => { }, cancellationToken).ConfigureAwait(false);
            return CliExitCode.Success;
        }

        var file = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        await using (file.ConfigureAwait(false))
        {
            if (arguments.Json)
            {
                written = await ExportAsync(context, file, format, setId, dataset, pageSize, _ => { }, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                written = await context.Console.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .StartAsync(async progress =>
                    {
                        var task = progress.AddTask(Markup.Escape($"export {setId}"), maxValue: Math.Max(1, total));
                        var count = await ExportAsync(context, file, format, setId, dataset, pageSize, n => task.Increment(n), cancellationToken).ConfigureAwait(false);
                        task.Value = task.MaxValue;
                        return count;
                    }).ConfigureAwait(false);
            }
        }

        if (arguments.Json)
        {
            await CliJson.WriteLineAsync(context.Output, new { setId, format, records = written, @out = Path.GetFullPath(path) }).ConfigureAwait(false);
        }
        else
        {
            context.Console.MarkupLine("Exported [bold]{0:N0}[/] records of {1} to {2}", written, Markup.Escape(setId), Markup.Escape(Path.GetFullPath(path)));
        }

        return CliExitCode.Success;
    }

    private static async Task<long> ExportAsync(
        CliContext context,
        TextWriter output,
        string format,
        string setId,
        string? dataset,
        int pageSize,
        Action<int> onPage,
        CancellationToken cancellationToken)
    {
        var csv = format == "csv" ? new CsvRecordWriter(output) : null;
        long written = 0;
        var query = new RecordQuery { Dataset = dataset, PageSize = pageSize, IncludeEmbeddings = true };
        do
        {
            var page = await context.Client.GetRecordsAsync(setId, query, cancellationToken).ConfigureAwait(false);
            foreach (var read in page.Records)
            {
                var record = RecordView.From(read);
                if (csv is not null)
                {
                    await csv.WriteAsync(record).ConfigureAwait(false);
                }
                else
                {
                    await CliJson.WriteLineAsync(output, record).ConfigureAwait(false);
                }
            }

            written += page.Records.Count;
            onPage(page.Records.Count);
            query.PageToken = page.NextPageToken;
        }
        while (query.PageToken is not null);

        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return written;
    }
}
