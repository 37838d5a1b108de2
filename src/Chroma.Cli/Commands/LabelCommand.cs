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
        var setId = arguments.Require("set");
        var reviewer = arguments.Require("reviewer");
        var label = new RecordLabel { RecordId = arguments.Require("id"), Label = arguments.Require("label"), Note = arguments.Get("note") };
        var updated = await context.Client.LabelAsync(setId, [label], reviewer, cancellationToken).ConfigureAwait(false);
        if (arguments.Json)
        {
            await CliJson.WriteLineAsync(context.Output, new { setId, id = label.RecordId, label = label.Label, updated }).ConfigureAwait(false);
        }
        else
        {
            context.Console.MarkupLineInterpolated($"Labeled {label.RecordId} as [bold]{label.Label}[/] (by {reviewer})");
        }

        return CliExitCode.Success;
    }
}
