using Chroma.Server.Cli.Internal;

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
        var target = ExportTarget.Read(context.Arguments);
        return await target.WriteAsync(context, "labeled records", (output, _) => ExportAsync(context, output, target.SetId, target.Csv, cancellationToken))
            .ConfigureAwait(false);
    }

    private static async Task<long> ExportAsync(CliContext context, TextWriter output, string setId, bool csv, CancellationToken cancellationToken)
    {
        long written = 0;
        await foreach (var record in context.Client.GetLabeledRecordsAsync(setId, includeEmbeddings: true, cancellationToken).ConfigureAwait(false))
        {
            var view = LabeledRecordView.From(record);
            if (csv)
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

        if (csv && written == 0)
        {
            // No labels yet: the header alone (with the set's embedding columns), so the file still reads as a table.
            var set = (await context.Client.ListSetsAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(s => s.SetId == setId);
            await output.WriteLineAsync(LabeledRecordView.CsvHeader(set?.Descriptor.Dimension ?? 0)).ConfigureAwait(false);
        }

        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return written;
    }
}
