using Chroma.Protocol.V1;
using Chroma.Server.Cli.Internal;
using Spectre.Console;

namespace Chroma.Server.Cli.Commands;

/// <summary><c>label</c>: records a reviewer's label on a production record (also marks it reviewed).</summary>
internal sealed class LabelCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "label";

    /// <inheritdoc />
    public string Usage => "label --set SET --id ID --label LABEL --reviewer NAME [--note TEXT] [--json]";

    /// <inheritdoc />
    public async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var arguments = context.Arguments;
        var request = new LabelRecordsRequest { SetId = arguments.Require("set"), Reviewer = arguments.Require("reviewer") };
        request.Labels.Add(new RecordLabel { RecordId = arguments.Require("id"), Label = arguments.Require("label"), Note = arguments.Get("note") ?? string.Empty });
        var response = await context.CreateLabelingClient().LabelRecordsAsync(request, deadline: context.Deadline(), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (arguments.Json)
        {
            await CliJson.WriteLineAsync(context.Output, new { setId = request.SetId, id = request.Labels[0].RecordId, label = request.Labels[0].Label, updated = response.Updated }).ConfigureAwait(false);
        }
        else
        {
            context.Console.MarkupLineInterpolated($"Labeled {request.Labels[0].RecordId} as [bold]{request.Labels[0].Label}[/] (by {request.Reviewer})");
        }

        return CliExitCode.Success;
    }
}
