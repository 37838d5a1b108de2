using System.Globalization;

namespace Chroma.Server.Cli;

/// <summary>
/// The command line of a CLI command: <c>command --name value --flag</c>. Values are looked up by
/// name; an option the command does not take, or a missing or malformed value, throws <see cref="CliUsageException"/>
/// naming the option.
/// </summary>
internal sealed class CliArguments
{
    private static readonly HashSet<string> Flags = new(StringComparer.Ordinal) { "json", "help", "full", "include-self", "exact", "skip-invalid", "include-reviewed", "local" };

    private readonly Dictionary<string, string> _options;

    private CliArguments(string command, Dictionary<string, string> options)
    {
        Command = command;
        _options = options;
    }

    /// <summary>Gets the subcommand (<c>sets</c>, <c>export</c>, ...).</summary>
    public string Command { get; }

    /// <summary>Whether option <paramref name="name"/> (without dashes) is a flag, which takes no value.</summary>
    public static bool IsFlag(string name) => Flags.Contains(name);

    /// <summary>Gets a value indicating whether <c>--json</c> was given (machine-readable output).</summary>
    public bool Json => _options.ContainsKey("json");

    /// <summary>Parses <paramref name="args"/>; the first element is the subcommand.</summary>
    /// <param name="args">The command line, subcommand first.</param>
    /// <param name="knownOptions">The options the subcommand takes (names without dashes); any other is refused, with the nearest suggested.</param>
    public static CliArguments Parse(IReadOnlyList<string> args, IReadOnlySet<string> knownOptions)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(knownOptions);
        if (args.Count == 0)
        {
            throw new CliUsageException("no command given");
        }

        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i < args.Count; i++)
        {
            var token = args[i];
            if (!token.StartsWith("--", StringComparison.Ordinal) || token.Length == 2)
            {
                throw new CliUsageException($"unexpected argument '{token}' (options look like --name value)");
            }

            var name = token[2..];
            var equals = name.IndexOf('=', StringComparison.Ordinal);
            string? inlineValue = null;
            if (equals >= 0)
            {
                inlineValue = name[(equals + 1)..];
                name = name[..equals];
            }

            // Checked before a value is taken, so `--bogus --endpoint URL` names --bogus rather than the URL.
            if (!knownOptions.Contains(name))
            {
                throw new CliUsageException(UnknownOption(name, args[0], knownOptions));
            }

            string value;
            if (inlineValue is not null)
            {
                value = inlineValue;
            }
            else if (Flags.Contains(name))
            {
                value = "true";
            }
            else if (i + 1 < args.Count)
            {
                value = args[++i];
            }
            else
            {
                throw new CliUsageException($"--{name} needs a value");
            }

            options[name] = value;
        }

        return new CliArguments(args[0], options);
    }

    private static string UnknownOption(string name, string command, IReadOnlySet<string> knownOptions)
    {
        var suggestion = CommandSuggestion.Nearest(name, knownOptions.Order(StringComparer.Ordinal));
        return suggestion is null
            ? $"unknown option '--{name}' for '{command}'"
            : $"unknown option '--{name}' for '{command}' (did you mean '--{suggestion}'?)";
    }

    /// <summary>Gets an optional string option.</summary>
    public string? Get(string name) => _options.GetValueOrDefault(name);

    /// <summary>Gets a required string option.</summary>
    public string Require(string name) =>
        _options.TryGetValue(name, out var value) && value.Length > 0
            ? value
            : throw new CliUsageException($"--{name} is required for '{Command}'");

    /// <summary>Gets an integer option within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public int GetInt(string name, int defaultValue, int min, int max)
    {
        if (!_options.TryGetValue(name, out var text))
        {
            return defaultValue;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new CliUsageException($"--{name} must be a whole number from {min} to {max} (got '{text}')");
        }

        return value;
    }

    /// <summary>Gets the <c>--endpoint</c> option (default <c>http://localhost:50051</c>).</summary>
    public Uri Endpoint()
    {
        var text = Get("endpoint") ?? "http://localhost:50051";
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliUsageException($"--endpoint must be an http:// or https:// address (got '{text}')");
        }

        return uri;
    }
}
