using System.Text.RegularExpressions;

namespace Chroma.Server.Cli;

/// <summary>
/// The options a command takes: the ones its <see cref="ICliCommand.Usage"/> names (so <c>help</c> and the parser cannot
/// disagree) and the ones every command takes (<c>--endpoint</c>, <c>--api-key</c>, <c>--trusted-root</c>, <c>--json</c>,
/// <c>--timeout</c>, <c>--help</c>).
/// </summary>
internal static partial class CommandOptions
{
    /// <summary>The options every command takes, without their dashes.</summary>
    public static IReadOnlyList<string> Common { get; } = ["endpoint", "api-key", "trusted-root", "json", "timeout", "help"];

    /// <summary>Gets the names (without dashes) of the options <paramref name="command"/> takes.</summary>
    public static IReadOnlySet<string> Of(ICliCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var names = new HashSet<string>(Common, StringComparer.Ordinal);
        foreach (Match match in OptionName().Matches(command.Usage))
        {
            names.Add(match.Groups[1].Value);
        }

        return names;
    }

    [GeneratedRegex(@"--([a-z][a-z0-9-]*)", RegexOptions.CultureInvariant)]
    private static partial Regex OptionName();
}
