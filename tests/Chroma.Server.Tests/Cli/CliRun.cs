using Chroma.Server.Cli;
using Chroma.Server.Cli.Commands;
using Spectre.Console;

namespace Chroma.Server.Tests.Cli;

/// <summary>Runs one CLI command in-process, with the host's own commands as <c>chroma-server</c> has them, and keeps what it wrote to each stream.</summary>
internal sealed record CliRun(int ExitCode, string Output, string Error, string Console)
{
    public static async Task<CliRun> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var consoleText = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(consoleText),
        });
        console.Profile.Width = 200;
        var exitCode = await ChromaCli.RunAsync(args, [new CheckCommand(), new BackupCommand()], console, output, error).WaitAsync(TimeSpan.FromSeconds(60));
        return new CliRun(exitCode, output.ToString(), error.ToString(), consoleText.ToString());
    }
}
