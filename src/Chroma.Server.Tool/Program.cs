using Chroma.Server.Cli;
using Chroma.Server.Cli.Commands;
using Chroma.Server.Hosting.Internal;
using Chroma.Server.Tool;

// The chroma-server tool: a thin host over the Chroma.Server library (whose internals it sees by InternalsVisibleTo) and
// the Chroma.Cli commands (built on ChromaClient); check and backup open the database itself, so they are the host's own commands.
// `chroma-server migrate` brings the configured database's schema up to date and exits;
// `chroma-server sets|stats|recommend|neighbours|export|report|health|check ...` are commands; nothing, `serve`, or
// configuration such as --Chroma:Port=6000 runs the server; any other word is an unknown command (exit code 2).
if (args.Length > 0 && args[0] == MigrateCommand.Name)
{
    return await StandaloneServer.MigrateAsync(args[1..], Console.Out, Console.Error).ConfigureAwait(false);
}

// `serve --help` is the tool's help, not a server start with "--help" as a setting.
var serveHelp = args.Length > 1 && args[0] == "serve" && ServerArguments.IsHelp(args[1..]);
if (serveHelp || ChromaCli.IsCliCommand(args))
{
    args = serveHelp ? ["help"] : args;
    using var cancel = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        cancel.Cancel();
    };
    return await ChromaCli.RunAsync(args, [new CheckCommand(), new BackupCommand()], CliConsole.Create(), Console.Out, Console.Error, cancel.Token).ConfigureAwait(false);
}

return await StandaloneServer.RunAsync(
    args.Length > 0 && args[0] == "serve" ? args[1..] : args, Console.Error, OtlpMetricsExport.AddWhenConfigured).ConfigureAwait(false);

// The tool exposes no API (its PublicAPI files are empty): declared internal, so the Web SDK's generator does not make the
// top-level Program public for WebApplicationFactory tests, which this tool has none of.
internal sealed partial class Program;
