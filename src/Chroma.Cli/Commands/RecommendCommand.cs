using System.Globalization;
using Chroma.Server.Cli.Internal;
using Spectre.Console;

namespace Chroma.Server.Cli.Commands;

/// <summary><c>recommend</c>: the production records the server ranks highest for review or labelling, with reasons.</summary>
internal sealed class RecommendCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "recommend";

    /// <inheritdoc />
    public string Usage => "recommend --set SET [--top 20 (1-1000)] [--strategy balanced|ood|uncertainty|labeling] [--dataset production] [--include-reviewed] [--wait SECONDS] [--json]";

    /// <inheritdoc />
    public async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var arguments = context.Arguments;
        var setId = arguments.Require("set");
        var wait = arguments.GetInt("wait", 0, 0, 600);
        var query = new RecommendationQuery
        {
            PageSize = arguments.GetInt("top", 20, 1, 1000),
            Strategy = RecommendationSource.ParseStrategy(arguments.Get("strategy")),
            Dataset = arguments.Get("dataset"),
            IncludeReviewed = arguments.Get("include-reviewed") is not null,

            // --wait: the server answers once its ranking covers every record it had acknowledged (or the time is up).
            WaitForAcknowledged = wait > 0,
            WaitTimeout = wait > 0 ? TimeSpan.FromSeconds(wait) : null,
        };

        var (response, unavailable) = await RecommendationSource.TryGetAsync(context, setId, query, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            var message = $"the server at {context.Endpoint} offers no recommendations for '{setId}' ({unavailable}). "
                + "A server without the recommendation engine answers Unimplemented; a set without training data answers FailedPrecondition.";
            if (arguments.Json)
            {
                await CliJson.WriteLineAsync(context.Output, new { available = false, reason = unavailable, message }).ConfigureAwait(false);
            }
            else
            {
                context.Console.MarkupLine("[yellow]Recommendations not available:[/] {0}", Markup.Escape(message));
            }

            return CliExitCode.NotAvailable;
        }

        var items = response.Items.Select(r => new
        {
            score = r.Score,
            reasons = r.Reasons.ToList(),
            signals = r.Signals.Select(s => new { signal = s.Name, value = s.Value, percentile = s.Percentile, pValue = s.PValue }).ToList(),
            duplicateIds = r.DuplicateIds.ToList(),
            duplicateCount = r.DuplicateCount,
            record = RecordView.From(r.Record),
        }).ToList();

        if (arguments.Json)
        {
            await CliJson.WriteLineAsync(context.Output, new
            {
                available = true,
                setId,
                computedUnixMs = response.ComputedAt?.ToUnixTimeMilliseconds() ?? 0,
                scoredRecords = response.ScoredRecords,
                pendingRecords = response.PendingRecords,
                coversRequest = wait == 0 || response.CoversRequest,
                scoringFailure = ScoringFailureView.From(response.LastScoringFailure),
                recommendations = items,
            }).ConfigureAwait(false);
            return await WaitOutcomeAsync(context, setId, wait, response).ConfigureAwait(false);
        }

        // Records labeled, reviewed or dismissed are not ranked unless asked for (probe M, M6: the title read as if they were).
        var reviewed = query.IncludeReviewed ? "reviewed records included" : "reviewed and dismissed records left out; --include-reviewed shows them";
        var title = $"Top {items.Count} of {response.ScoredRecords:N0} ranked records in {setId} ({response.PendingRecords:N0} pending; {reviewed})";
        var table = new Table()
            .AddColumn(new TableColumn("#").RightAligned()).AddColumn("record").AddColumn("predicted")
            .AddColumn(new TableColumn("score").RightAligned()).AddColumn("why").AddColumn("input");
        var rank = 0;
        foreach (var item in items)
        {
            table.AddRow(
                (++rank).ToString(CultureInfo.InvariantCulture),
                Markup.Escape(item.record.Id),
                Markup.Escape(item.record.PredictedClass ?? string.Empty),
                item.score.ToString("F3", CultureInfo.InvariantCulture),
                Markup.Escape(string.Join("; ", item.reasons)),
                Markup.Escape(item.record.InputUri ?? string.Empty));
        }

        context.Console.WriteTitled(title, table);
        if (ScoringFailureView.From(response.LastScoringFailure) is { } failure)
        {
            context.Console.MarkupLine("[red]Error:[/] {0}", Markup.Escape(failure.Describe(setId)));
        }
        else if (response.PendingRecords > 0)
        {
            context.Console.MarkupLine(
                "[yellow]Scoring is still running:[/] {0:N0} records are not ranked yet. Run again shortly, or add --wait SECONDS to wait for them.",
                response.PendingRecords);
        }

        return await WaitOutcomeAsync(context, setId, wait, response).ConfigureAwait(false);
    }

    // --wait that ran out before the ranking covered what the server had acknowledged, or ended because the pass it
    // waited for failed: the list shown is the last ranking, said on standard error, and exit code 4 so a script does
    // not take it for the fresh one.
    private static async Task<int> WaitOutcomeAsync(CliContext context, string setId, int wait, RecommendationPage response)
    {
        if (wait == 0 || response.CoversRequest)
        {
            return CliExitCode.Success;
        }

        if (ScoringFailureView.From(response.LastScoringFailure) is { } failure)
        {
            // The pass the wait was for failed: said at once, not after the wait (the list is the last ranking).
            await context.Error.WriteLineAsync($"chroma-server: {failure.Describe(setId)}; the list is the last ranking").ConfigureAwait(false);
            return CliExitCode.NotAvailable;
        }

        await context.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"chroma-server: the wait of {wait} s ran out before the ranking covered every record the server had acknowledged ({response.PendingRecords:N0} not ranked yet); the list is the last ranking")).ConfigureAwait(false);
        return CliExitCode.NotAvailable;
    }
}
