using System.Globalization;
using Chroma.Server.Cli.Internal;
using Spectre.Console;

namespace Chroma.Server.Cli.Commands;

/// <summary><c>sets</c>: the embedding sets the server holds, with record counts per dataset.</summary>
internal sealed class SetsCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "sets";

    /// <inheritdoc />
    public string Usage => "sets [--json]: embedding sets with their dimension, metric, record counts per dataset, retention rules and any failed scoring pass";

    /// <inheritdoc />
    public async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var sets = await context.Client.ListSetsAsync(cancellationToken).ConfigureAwait(false);

        if (context.Arguments.Json)
        {
            await CliJson.WriteLineAsync(context.Output, new { sets = sets.Select(SetView.From).ToList() }).ConfigureAwait(false);
            return CliExitCode.Success;
        }

        if (sets.Count == 0)
        {
            context.Console.MarkupLine("[grey]The server holds no embedding sets yet.[/]");
            return CliExitCode.Success;
        }

        var table = new Table()
            .AddColumn("set").AddColumn("model").AddColumn("version").AddColumn("layer")
            .AddColumn(new TableColumn("dim").RightAligned())
            .AddColumn("metric")
            .AddColumn("datasets")
            .AddColumn(new TableColumn("records").RightAligned())
            .AddColumn("updated (UTC)")
            .AddColumn("retention");
        var views = sets.Select(SetView.From).ToList();
        foreach (var set in views)
        {
            table.AddRow(
                Markup.Escape(set.SetId),
                Markup.Escape(set.Model),
                Markup.Escape(set.ModelVersion),
                Markup.Escape(set.Layer),
                set.Dimension.ToString(CultureInfo.InvariantCulture),
                set.Metric,
                Markup.Escape(string.Join(", ", set.Datasets.Select(d => $"{d.Key} {d.Value:N0}"))),
                set.TotalRecords.ToString("N0", CultureInfo.InvariantCulture),
                DateTimeOffset.FromUnixTimeMilliseconds(set.UpdatedUnixMs).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                set.Retention.Count == 0 ? "[grey]none[/]" : Markup.Escape(string.Join("; ", set.Retention.Select(r => r.Describe()))));
        }

        context.Console.WriteTitled("Embedding sets", table);
        foreach (var set in views)
        {
            if (set.ScoringFailure is { } failure)
            {
                context.Console.MarkupLine("[red]Error:[/] {0}", Markup.Escape(failure.Describe(set.SetId)));
            }

            if (set.IndexBuildFailure is { } buildFailure)
            {
                context.Console.MarkupLine(
                    "[yellow]Warning:[/] {0}",
                    Markup.Escape($"the HNSW build of {set.SetId} failed ({buildFailure}); exact search answers meanwhile, and the set's next change starts the build again"));
            }
        }

        return CliExitCode.Success;
    }
}
