using Spectre.Console;

namespace Chroma.Server.Cli;

/// <summary>
/// The console the CLI writes tables and messages to. Piped or redirected output, and any <c>NO_COLOR</c> value
/// (https://no-color.org), get plain text without ANSI escape codes; redirected output is not wrapped at the
/// terminal's width (ids and UUIDs stay on one line for <c>grep</c> and <c>cut</c>).
/// </summary>
internal static class CliConsole
{
    /// <summary>The width a redirected console lays tables out for: wide enough that no row wraps.</summary>
    public const int RedirectedWidth = 4096;

    /// <summary>Creates the console for the process's standard output.</summary>
    public static IAnsiConsole Create() =>
        Create(Console.Out, Console.IsOutputRedirected, Environment.GetEnvironmentVariable("NO_COLOR"));

    /// <summary>Creates a console writing to <paramref name="output"/>.</summary>
    /// <param name="output">Where the text goes.</param>
    /// <param name="redirected">Whether the output is a pipe or a file rather than a terminal.</param>
    /// <param name="noColor">The <c>NO_COLOR</c> environment variable; any non-empty value turns colour off.</param>
    public static IAnsiConsole Create(TextWriter output, bool redirected, string? noColor)
    {
        var plain = redirected || !string.IsNullOrEmpty(noColor);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = plain ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = plain ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
            Out = new AnsiConsoleOutput(output),
        });
        if (redirected)
        {
            console.Profile.Width = RedirectedWidth;
        }

        return console;
    }
}
