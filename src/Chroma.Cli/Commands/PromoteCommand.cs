using Chroma.Protocol.V1;
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
        var request = new PromoteLabelsRequest { SetId = arguments.Require("set"), PromotedBy = arguments.Require("by") };
        if (arguments.Get("ids") is { } ids)
        {
            request.Ids.AddRange(ids.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        var response = await context.CreateLabelingClient().PromoteLabelsAsync(request, deadline: context.Deadline(), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (arguments.Json)
        {
            await CliJson.WriteLineAsync(context.Output, new
            {
                setId = request.SetId,
                promoted = response.Promoted.Select(p => new { id = p.RecordId, trainingId = p.TrainingRecordId }).ToArray(),
                alreadyPromoted = response.AlreadyPromoted,
            }).ConfigureAwait(false);
        }
        else
        {
            context.Console.MarkupLineInterpolated($"Promoted {response.Promoted.Count} labeled records to training ({response.AlreadyPromoted} already were)");
        }

        return CliExitCode.Success;
    }
}
