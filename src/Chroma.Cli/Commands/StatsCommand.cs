using System.Globalization;
using Chroma.Server.Cli.Internal;
using Chroma.Server.Cli.Report;
using Spectre.Console;

namespace Chroma.Server.Cli.Commands;

/// <summary><c>stats</c>: totals per dataset and, where the server scores them, how many production records are ranked.</summary>
internal sealed class StatsCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "stats";

    /// <summary>How many sets' coverage is asked for at once.</summary>
    private const int ConcurrentCalls = 8;

    /// <inheritdoc />
    public string Usage => "stats [--set SET] [--json]: record totals per dataset and recommendation coverage";

    /// <inheritdoc />
    public async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var setFilter = context.Arguments.Get("set");
        var listed = await context.Client.ListSetsAsync(cancellationToken).ConfigureAwait(false);
        var sets = listed.Select(SetView.From).Where(s => setFilter is null || s.SetId == setFilter).ToList();
        if (setFilter is not null && sets.Count == 0)
        {
            throw new CliUsageException($"--set '{setFilter}' is not on the server (run 'chroma-server sets')");
        }

        // Eight sets' coverage asked at a time, in the sets' order (probe X, X11: one call after another took 52 s at
        // 5,000 sets).
        var stats = new SetStats[sets.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, sets.Count),
            new ParallelOptions { MaxDegreeOfParallelism = ConcurrentCalls, CancellationToken = cancellationToken },
            async (i, token) =>
            {
                var set = sets[i];
                var (recommendations, _) = await RecommendationSource.TryGetAsync(
                    context, set.SetId, new RecommendationQuery { PageSize = 1 }, token).ConfigureAwait(false);
                stats[i] = new SetStats(set.SetId, set.Dimension, set.Metric, set.TotalRecords, set.Datasets, recommendations?.ScoredRecords, recommendations?.PendingRecords, set.Drift, set.Retention);
            }).ConfigureAwait(false);
        var perSet = stats.ToList();

        var datasets = perSet.SelectMany(s => s.Datasets)
            .GroupBy(d => d.Key, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(d => d.Value), StringComparer.Ordinal);
        var totalRecords = perSet.Sum(s => s.TotalRecords);

        if (context.Arguments.Json)
        {
            await CliJson.WriteLineAsync(context.Output, new { sets = perSet.Count, totalRecords, datasets, perSet }).ConfigureAwait(false);
            return CliExitCode.Success;
        }

        context.Console.MarkupLine(CultureInfo.InvariantCulture, "[bold]{0}[/] embedding sets, [bold]{1:N0}[/] records", perSet.Count, totalRecords);
        if (datasets.Count > 0)
        {
            // The chart gives its names at most about half its width: twice the longest name (up to 64 characters) and
            // room for the count, where a fixed 60 wrapped long names over several lines, piped output included (probe
            // V, V5). A terminal narrower than that still wraps.
            var width = Math.Min((2 * datasets.Keys.Max(d => d.Length)) + 12, context.Console.Profile.Width);
            var chart = new BarChart().Label("records per dataset").Width(Math.Max(60, width));
            foreach (var (dataset, count) in datasets)
            {
                // The report's colours, so a dataset looks the same in the terminal and in the HTML.
                chart.AddItem(Markup.Escape(dataset), count, FromHex(ReportColors.ForDataset(dataset)));
            }

            context.Console.Write(chart);
        }

        var table = new Table().AddColumn("set").AddColumn(new TableColumn("dim").RightAligned()).AddColumn("metric")
            .AddColumn(new TableColumn("records").RightAligned()).AddColumn("datasets")
            .AddColumn(new TableColumn("ranked").RightAligned()).AddColumn(new TableColumn("pending").RightAligned())
            .AddColumn(new TableColumn("drift (MMD², p)").RightAligned())
            .AddColumn("retention");
        foreach (var set in perSet)
        {
            table.AddRow(
                Markup.Escape(set.SetId),
                set.Dimension.ToString(CultureInfo.InvariantCulture),
                set.Metric,
                set.TotalRecords.ToString("N0", CultureInfo.InvariantCulture),
                Markup.Escape(string.Join(", ", set.Datasets.Select(d => $"{d.Key} {d.Value:N0}"))),
                set.ScoredRecords?.ToString("N0", CultureInfo.InvariantCulture) ?? "[grey]n/a[/]",
                set.PendingRecords?.ToString("N0", CultureInfo.InvariantCulture) ?? "[grey]n/a[/]",
                set.Drift is { } drift
                    ? string.Format(CultureInfo.InvariantCulture, drift.PValue < 0.05 ? "[red]{0:G3}, {1:G2}[/]" : "{0:G3}, {1:G2}", drift.Mmd2, drift.PValue)
                    : "[grey]n/a[/]",
                set.Retention.Count == 0 ? "[grey]none[/]" : Markup.Escape(string.Join("; ", set.Retention.Select(r => r.Describe()))));
        }

        context.Console.Write(table);
        return CliExitCode.Success;
    }

    private static Color FromHex(string hex) =>
        new(Convert.ToByte(hex[1..3], 16), Convert.ToByte(hex[3..5], 16), Convert.ToByte(hex[5..7], 16));

    /// <summary>One set's figures; the recommendation counts and drift are null when the server does not measure them.</summary>
    private sealed record SetStats(
        string SetId,
        int Dimension,
        string Metric,
        long TotalRecords,
        IReadOnlyDictionary<string, long> Datasets,
        long? ScoredRecords,
        long? PendingRecords,
        DriftView? Drift,
        IReadOnlyList<RetentionView> Retention);
}
