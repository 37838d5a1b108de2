using System.Text;
using Chroma.Server.Cli.Internal;
using Spectre.Console;

namespace Chroma.Server.Cli.Commands;

/// <summary><c>export-labels</c>: the labeled production records of a set (label, reviewer, note, times, promotion, embedding) as CSV or JSON lines.</summary>
internal sealed class ExportLabelsCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "export-labels";

    /// <inheritdoc />
    public string Usage => "export-labels --set SET --format csv|jsonl [--out FILE] [--json]";

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

        var path = arguments.Get("out");
        if (path is null)
        {
            await ExportAsync(context, context.Output, setId, format, cancellationToken).ConfigureAwait(false);
            return CliExitCode.Success;
        }

        long written;
        var file = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        await using (file.ConfigureAwait(false))
        {
            written = await ExportAsync(context, file, setId, format, cancellationToken).ConfigureAwait(false);
        }

        if (arguments.Json)
        {
            await CliJson.WriteLineAsync(context.Output, new { setId, format, records = written, @out = Path.GetFullPath(path) }).ConfigureAwait(false);
        }
        else
        {
            context.Console.MarkupLineInterpolated($"Exported [bold]{written:N0}[/] labeled records of {setId} to {Path.GetFullPath(path)}");
        }

        return CliExitCode.Success;
    }

    private static async Task<long> ExportAsync(CliContext context, TextWriter output, string setId, string format, CancellationToken cancellationToken)
    {
        long written = 0;
        await foreach (var record in context.Client.GetLabeledRecordsAsync(setId, includeEmbeddings: true, cancellationToken).ConfigureAwait(false))
        {
            var view = LabeledRecordView.From(record);
            if (format == "csv")
            {
                if (written == 0)
                {
                    await output.WriteLineAsync(LabeledRecordView.CsvHeader(view.Embedding?.Count ?? 0)).ConfigureAwait(false);
                }

                await output.WriteLineAsync(view.ToCsv()).ConfigureAwait(false);
            }
            else
            {
                await CliJson.WriteLineAsync(output, view).ConfigureAwait(false);
            }

            written++;
        }

        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return written;
    }
}
