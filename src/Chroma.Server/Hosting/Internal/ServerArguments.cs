namespace Chroma.Server.Hosting.Internal;

/// <summary>
/// Checks the command line of <c>chroma-server [serve]</c> and <c>chroma-server migrate</c> before it reaches the
/// configuration: ASP.NET Core's command-line source takes any <c>--name value</c> as a setting, so
/// <c>serve --port 6000</c> started a server on the configured port with <c>--port</c> silently dropped, and
/// <c>serve --help</c> started a server (probe V, V13). Settings are section paths (<c>--Chroma:Port=6000</c>,
/// <c>--Logging:LogLevel:Default Debug</c>) or the host's own few; anything else is a usage error (exit code 2),
/// as for the other commands.
/// </summary>
internal static class ServerArguments
{
    /// <summary>The exit code of a usage error, as the CLI's commands use it.</summary>
    public const int UsageExitCode = 2;

    // The host's settings without a section (WebApplication reads them from the command line too).
    private static readonly HashSet<string> HostKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "environment", "contentRoot", "applicationName", "urls", "http_ports", "https_ports",
    };

    private static readonly HashSet<string> HelpWords = new(StringComparer.Ordinal) { "--help", "-h", "-?", "help" };

    /// <summary>Whether <paramref name="args"/> asks for help (its first word is <c>--help</c>, <c>-h</c>, <c>-?</c> or <c>help</c>).</summary>
    public static bool IsHelp(IReadOnlyList<string> args) => args.Count > 0 && HelpWords.Contains(args[0]);

    /// <summary>What is wrong with <paramref name="args"/> for <paramref name="command"/>, or null when every word is a setting.</summary>
    public static string? Problem(IReadOnlyList<string> args, string command)
    {
        ArgumentNullException.ThrowIfNull(args);
        for (var i = 0; i < args.Count; i++)
        {
            var word = args[i];
            if (HelpWords.Contains(word))
            {
                return $"'{word}' for '{command}' comes first: chroma-server {command} --help";
            }

            string key;
            if (word.StartsWith("--", StringComparison.Ordinal) || word.StartsWith('/'))
            {
                var body = word[(word.StartsWith('/') ? 1 : 2)..];
                var equals = body.IndexOf('=', StringComparison.Ordinal);
                key = equals >= 0 ? body[..equals] : body;
                if (equals < 0 && ++i >= args.Count)
                {
                    return IsSetting(key)
                        ? $"'{word}' for '{command}' needs a value (--{key}=value)"
                        : Unknown(word, command);
                }
            }
            else if (word.Contains('=', StringComparison.Ordinal))
            {
                key = word[..word.IndexOf('=', StringComparison.Ordinal)];
            }
            else
            {
                return $"unexpected '{word}' for '{command}': {Hint}";
            }

            if (!IsSetting(key))
            {
                return Unknown(word, command);
            }
        }

        return null;
    }

    private const string Hint =
        "the server takes its settings as --Chroma:Name=value (e.g. --Chroma:Port=6000) or Chroma__Name environment variables; see README, Configuration";

    private static string Unknown(string word, string command) =>
        word.Contains("__", StringComparison.Ordinal)
            ? $"unknown option '{word}' for '{command}': that is an environment variable's spelling; on the command line write {word.Replace("__", ":", StringComparison.Ordinal)}"
            : $"unknown option '{word}' for '{command}': {Hint}";

    private static bool IsSetting(string key) =>
        key.Length > 0 && (key.Contains(':', StringComparison.Ordinal) ? !key.StartsWith(':') && !key.EndsWith(':') : HostKeys.Contains(key));
}
