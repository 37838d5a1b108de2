using Chroma.Server.Cli.Internal;
using Chroma.Server.Cli.Report;
using Spectre.Console;

namespace Chroma.Server.Cli.Commands;

/// <summary><c>report</c>: a self-contained HTML page with the set's 2-D projection, recommended records and drift over time.</summary>
internal sealed class ReportCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "report";

    /// <inheritdoc />
    public string Usage => "report --set SET --out report.html [--max-points 2000] [--top 20] [--windows 8] [--drift auto|server|local] [--json]";

    /// <inheritdoc />
    public async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var arguments = context.Arguments;
        var setId = arguments.Require("set");
        var path = arguments.Require("out");
        OutputFile.Check(path);
        var builder = new ReportBuilder(context)
        {
            MaxPoints = arguments.GetInt("max-points", 2000, 10, 100_000),
            Top = arguments.GetInt("top", 20, 1, 1000),
            DriftWindows = arguments.GetInt("windows", 8, 1, 100),
            DriftSource = arguments.Get("drift") switch
            {
                null or "auto" => "auto",
                "server" => "server",
                "local" => "local",
                var other => throw new CliUsageException($"--drift must be auto, server or local (got '{other}')"),
            },
        };

        var total = await builder.CountAsync(setId, cancellationToken).ConfigureAwait(false);
        ReportModel model;
        if (arguments.Json)
        {
            model = await builder.BuildAsync(setId, total, _ => { }, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            model = await context.Console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn())
                .StartAsync(async progress =>
                {
                    var read = progress.AddTask("read records", maxValue: Math.Max(1, total));
                    var built = await builder.BuildAsync(setId, total, n => read.Increment(n), cancellationToken).ConfigureAwait(false);
                    read.Value = read.MaxValue;
                    return built;
                }).ConfigureAwait(false);
        }

        await OutputFile.WriteAsync(path, async file =>
        {
            await file.WriteAsync(HtmlReportWriter.Render(model).AsMemory(), cancellationToken).ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);
        var recommended = model.Points.Count(p => p.RecommendationRank.HasValue);
        if (arguments.Json)
        {
            await CliJson.WriteLineAsync(context.Output, new
            {
                setId,
                @out = Path.GetFullPath(path),
                points = model.Points.Count,
                datasets = model.Points.GroupBy(p => p.Dataset).ToDictionary(g => g.Key, g => g.Count()),
                recommended,
                driftWindows = model.Drift.Count,
                note = model.RecommendationsNote,
            }).ConfigureAwait(false);
        }
        else
        {
            context.Console.MarkupLine("Wrote {0} ({1:N0} points, {2} recommended, {3} drift windows)", Markup.Escape(Path.GetFullPath(path)), model.Points.Count, recommended, model.Drift.Count);
            if (model.RecommendationsNote is not null)
            {
                context.Console.MarkupLine("[yellow]{0}[/]", Markup.Escape(model.RecommendationsNote));
            }
        }

        return CliExitCode.Success;
    }
}
