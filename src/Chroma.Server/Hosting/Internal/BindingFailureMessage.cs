using System.Text.RegularExpressions;

namespace Chroma.Server.Hosting.Internal;

/// <summary>
/// Rewrites the configuration binder's "Failed to convert configuration value 'x' at 'Chroma:Storage:Provider' to type
/// '...StorageProvider'" into a line an operator can act on: the setting, its environment variable, and what it takes
/// (the names of an enum's values; the form of a time span).
/// </summary>
internal static partial class BindingFailureMessage
{
    /// <summary>The operator's line for <paramref name="binderMessage"/>, or the message itself when it has another form.</summary>
    public static string Describe(string binderMessage)
    {
        var match = BinderMessage().Match(binderMessage);
        if (!match.Success)
        {
            return binderMessage;
        }

        var (value, path, typeName) = (match.Groups["value"].Value, match.Groups["path"].Value, match.Groups["type"].Value);
        var type = typeof(BindingFailureMessage).Assembly.GetType(typeName) ?? Type.GetType(typeName);
        var takes = type switch
        {
            { IsEnum: true } => $"one of {string.Join(", ", Enum.GetNames(type))} (any case)",
            _ when type == typeof(TimeSpan) => "a time span such as 00:00:30 (hh:mm:ss) or 1.00:00:00 (a day)",
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(int) || type == typeof(long) => "a whole number",
            _ when type == typeof(double) || type == typeof(float) => "a number (with . as the decimal point)",
            _ => $"a value of type {type?.Name ?? typeName}",
        };
        return $"{path} ({path.Replace(":", "__", StringComparison.Ordinal)}): '{value}' is not valid; it takes {takes}.";
    }

    [GeneratedRegex("^Failed to convert configuration value '(?<value>.*)' at '(?<path>[^']+)' to type '(?<type>[^']+)'", RegexOptions.Singleline)]
    private static partial Regex BinderMessage();
}
