using Chroma.Protocol.V1;
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
        var request = new SetReviewStateRequest { SetId = arguments.Require("set"), State = state, Reviewer = arguments.Require("reviewer") };
        request.Ids.AddRange(arguments.Require("ids").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        var response = await context.CreateLabelingClient().SetReviewStateAsync(request, deadline: context.Deadline(), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (arguments.Json)
        {
            await CliJson.WriteLineAsync(context.Output, new { setId = request.SetId, state = stateName, updated = response.Updated }).ConfigureAwait(false);
        }
        else
        {
            context.Console.MarkupLineInterpolated($"Marked {response.Updated} records {stateName} (by {request.Reviewer})");
        }

        return CliExitCode.Success;
    }
}
