using Chroma.Server.Cli.Internal;
using Spectre.Console;

namespace Chroma.Server.Cli.Commands;

/// <summary><c>promote</c>: copies labeled production records into training so the next fit uses them.</summary>
internal sealed class PromoteCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "promote";

    /// <inheritdoc />
    public string Usage => "promote --set SET --by NAME [--ids ID[,ID...]] [--json]   (no --ids: every label not promoted yet)";

    /// <inheritdoc />
    public async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var arguments = context.Arguments;
        var setId = arguments.Require("set");
        var ids = arguments.Get("ids")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (ids is { Length: 0 })
        {
            // No ids on the wire means every label not promoted yet: an empty --ids ("$IDS" unset) must not promote them all.
            throw new CliUsageException($"--ids names no record (got '{arguments.Get("ids")}'); leave --ids out to promote every label not promoted yet");
        }

        var promotion = await context.Client.PromoteLabelsAsync(setId, arguments.Require("by"), ids, cancellationToken).ConfigureAwait(false);
        if (arguments.Json)
        {
            await CliJson.WriteLineAsync(context.Output, new
            {
                setId,
                promoted = promotion.TrainingRecordIds.Select(p => new { id = p.Key, trainingId = p.Value }).ToArray(),
                alreadyPromoted = promotion.AlreadyPromoted,
            }).ConfigureAwait(false);
        }
        else
        {
            context.Console.MarkupLineInterpolated($"Promoted {promotion.TrainingRecordIds.Count} labeled records to training ({promotion.AlreadyPromoted} already were)");
        }

        return CliExitCode.Success;
    }
}
