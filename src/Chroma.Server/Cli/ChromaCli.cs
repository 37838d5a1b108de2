using Chroma.Server.Cli.Commands;
using Grpc.Core;
using Spectre.Console;

namespace Chroma.Server.Cli;

/// <summary>
/// The client side of <c>chroma-server</c>: subcommands that query a running server
/// (<c>sets</c>, <c>stats</c>, <c>recommend</c>, <c>neighbours</c>, <c>export</c>, <c>import</c>,
/// <c>report</c>, <c>health</c>). With no subcommand, or <c>serve</c>, the program runs the server instead.
/// </summary>
internal static class ChromaCli
{
    /// <summary>Gets every subcommand.</summary>
    public static IReadOnlyList<ICliCommand> Commands { get; } =
    [
        new SetsCommand(),
        new StatsCommand(),
        new RecommendCommand(),
        new NeighboursCommand(),
        new ExportCommand(),
        new LabelCommand(),
        new ReviewCommand(),
        new PromoteCommand(),
        new ExportLabelsCommand(),
        new ImportCommand(),
        new ReportCommand(),
        new HealthCommand(),
    ];

    /// <summary>
    /// Tells whether <paramref name="args"/> ask for a CLI command (rather than running the server,
    /// which takes <c>serve</c>, nothing, or configuration such as <c>--Chroma:Port=6000</c>).
    /// </summary>
    public static bool IsCliCommand(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        return args.Count > 0 && (args[0] is "help" or "--help" or "-h" || Commands.Any(c => c.Name == args[0]));
    }

    /// <summary>Runs one CLI command and returns its exit code; never throws for a user or server error.</summary>
    /// <param name="args">The command line, subcommand first.</param>
    /// <param name="console">Where tables, progress and messages go.</param>
    /// <param name="output">Where <c>--json</c> output and exported rows go.</param>
    /// <param name="error">Where errors go.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public static async Task<int> RunAsync(
        IReadOnlyList<string> args,
        IAnsiConsole console,
        TextWriter output,
        TextWriter error,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        CliContext? context = null;
        try
        {
            var arguments = CliArguments.Parse(args);
            if (arguments.Command is "help" or "--help" or "-h")
            {
                WriteHelp(console);
                return CliExitCode.Success;
            }

            var command = Commands.FirstOrDefault(c => c.Name == arguments.Command)
                ?? throw new CliUsageException($"unknown command '{arguments.Command}'");
            context = new CliContext(arguments, console, output);
            return await command.RunAsync(context, cancellationToken).ConfigureAwait(false);
        }
        catch (CliUsageException ex)
        {
            await error.WriteLineAsync($"chroma-server: {ex.Message}. Run 'chroma-server help' for usage.").ConfigureAwait(false);
            return CliExitCode.Usage;
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
        {
            // The status detail alone ("Error connecting to subchannel.") hides the cause; the socket error names it.
            var cause = ex.Status.DebugException is { } debug ? $" ({(debug.InnerException ?? debug).Message})" : string.Empty;
            await error.WriteLineAsync($"chroma-server: could not reach the Chroma server at {context?.Endpoint}: {ex.Status.Detail}{cause}").ConfigureAwait(false);
            return CliExitCode.Unreachable;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unauthenticated)
        {
            await error.WriteLineAsync($"chroma-server: the server at {context?.Endpoint} refused the call: {ex.Status.Detail} (pass --api-key)").ConfigureAwait(false);
            return CliExitCode.ServerError;
        }
        catch (RpcException ex)
        {
            await error.WriteLineAsync($"chroma-server: the server answered {ex.StatusCode}: {ex.Status.Detail}").ConfigureAwait(false);
            return CliExitCode.ServerError;
        }
        catch (IOException ex)
        {
            await error.WriteLineAsync($"chroma-server: {ex.Message}").ConfigureAwait(false);
            return CliExitCode.ServerError;
        }
        catch (UnauthorizedAccessException ex)
        {
            await error.WriteLineAsync($"chroma-server: {ex.Message}").ConfigureAwait(false);
            return CliExitCode.ServerError;
        }
        finally
        {
            context?.Dispose();
        }
    }

    private static void WriteHelp(IAnsiConsole console)
    {
        console.MarkupLine("[bold]chroma-server[/] [grey][[serve]][/]            run the server (options: Chroma__* environment variables or --Chroma:Name=value)");
        console.MarkupLine("[bold]chroma-server[/] [grey]<command> [[--endpoint http://host:50051]] [[--api-key KEY]] [[--json]] [[--timeout SECONDS]][/]");
        var table = new Table().AddColumn("command").AddColumn("usage");
        foreach (var command in Commands)
        {
            table.AddRow(command.Name, Markup.Escape(command.Usage));
        }

        console.Write(table);
    }
}
