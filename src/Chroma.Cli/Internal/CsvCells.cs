using System.Text;
using System.Text.RegularExpressions;

namespace Chroma.Server.Cli.Internal;

/// <summary>
/// The cells of the CSV the export commands write (RFC 4180: a cell holding a comma, quote or line break is quoted,
/// its quotes doubled), with text cells guarded against formula injection as OWASP advises: a spreadsheet that opens
/// the file runs a cell that begins with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, tab or carriage return as a formula
/// (after leading spaces too, and in their full-width forms <c>＝ ＋ － ＠</c>, which East Asian Excel reads as these),
/// and record fields (input URIs, labels, classes, reviewers, notes) come from whoever logs or labels records.
/// </summary>
/// <remarks>
/// Such a text cell is written with a single quote <c>'</c> before it, unless the whole value is a plain decimal number
/// (<c>-1</c>, <c>+3.5</c>, <c>-2e-3</c>: a spreadsheet reads it as that number, not a formula). A text cell that
/// itself begins with <c>'</c> gets one more, so the rule can be undone exactly: a text cell that begins with
/// <c>'</c> lost nothing but that first character. Numeric cells (sequences, times, embedding components) are
/// written as they are. JSON lines exports are never altered.
/// </remarks>
internal static partial class CsvCells
{
    /// <summary>Appends a text cell and its trailing comma, guarded and quoted as needed; null is an empty cell.</summary>
    public static void AppendText(StringBuilder line, string? value)
    {
        ArgumentNullException.ThrowIfNull(line);
        AppendQuoted(line, value is not null && NeedsGuard(value) ? "'" + value : value);
    }

    /// <summary>Appends a number the exporter formatted itself, and its trailing comma; null is an empty cell.</summary>
    public static void AppendNumber(StringBuilder line, string? value)
    {
        ArgumentNullException.ThrowIfNull(line);
        AppendQuoted(line, value);
    }

    /// <summary>Whether <paramref name="value"/>, as a text cell, is written with a <c>'</c> before it.</summary>
    public static bool NeedsGuard(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length > 0 && value[0] == '\'')
        {
            return true;
        }

        // Spaces before the trigger do not disarm it (LibreOffice trims them on import; so may the user's tooling),
        // and East Asian Excel reads the full-width forms of = + - @ as the ASCII ones.
        var start = 0;
        while (start < value.Length && value[start] is ' ' or '\u3000' or '\n')
        {
            start++;
        }

        return start < value.Length && value[start] switch
        {
            '=' or '@' or '\t' or '\r' or '\uFF1D' or '\uFF20' or '\uFF0B' or '\uFF0D' => true,
            '+' or '-' => !PlainNumber().IsMatch(value.AsSpan(start)),
            _ => false,
        };
    }

    private static void AppendQuoted(StringBuilder line, string? value)
    {
        if (value is not null && value.AsSpan().IndexOfAny(",\"\r\n") >= 0)
        {
            line.Append('"').Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
        }
        else
        {
            line.Append(value);
        }

        line.Append(',');
    }

    // A signed decimal number and nothing else (\z: '$' would let a trailing line break through).
    [GeneratedRegex(@"^[+-](?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\z", RegexOptions.CultureInvariant)]
    private static partial Regex PlainNumber();
}
