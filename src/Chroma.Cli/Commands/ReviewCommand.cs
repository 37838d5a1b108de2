using Chroma.Server.Cli.Internal;
using Spectre.Console;

namespace Chroma.Server.Cli.Commands;

/// <summary><c>review</c>: marks production records reviewed or dismissed (recommendations then leave them out), or back to unreviewed.</summary>
internal sealed class ReviewCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "review";

    /// <inheritdoc />
    public string Usage => "review --set SET --ids ID[,ID...] --state reviewed|dismissed|unreviewed --reviewer NAME [--json]";

    /// <inheritdoc />
    public async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var arguments = context.Arguments;
        var stateName = arguments.Require("state");
        var state = stateName switch
        {
            "reviewed" => ReviewState.Reviewed,
            "dismissed" => ReviewState.Dismissed,
            "unreviewed" => ReviewState.Unreviewed,
            _ => throw new CliUsageException($"--state must be reviewed, dismissed or unreviewed (got '{stateName}')"),
        };
        var setId = arguments.Require("set");
        var reviewer = arguments.Require("reviewer");
        var ids = arguments.Require("ids").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var updated = await context.Client.SetReviewStateAsync(setId, ids, state, reviewer, cancellationToken).ConfigureAwait(false);
        if (arguments.Json)
        {
            await CliJson.WriteLineAsync(context.Output, new { setId, state = stateName, updated }).ConfigureAwait(false);
        }
        else
        {
            context.Console.MarkupLineInterpolated($"Marked {updated} records {stateName} (by {reviewer})");
        }

        return CliExitCode.Success;
    }
}
