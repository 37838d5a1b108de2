using System.Text;

namespace Chroma.Server.Diagnostics.Internal;

/// <summary>
/// Client text as a log argument: made safe (<see cref="LogText.Safe"/>) only when the entry is written.
/// </summary>
/// <param name="Value">The text as the client sent it.</param>
internal readonly record struct ClientText(string? Value)
{
    /// <inheritdoc />
    public override string ToString() => LogText.Safe(Value);
}

/// <summary>
/// Client text made safe for a log line: control characters (a newline could forge a line of its own, with a level
/// of its choosing) written as escapes (<c>\n</c>, <c>\u001b</c>), and at most <see cref="MaxLength"/> characters.
/// </summary>
internal static class LogText
{
    /// <summary>The longest text kept; the rest is cut and marked.</summary>
    public const int MaxLength = 300;

    /// <summary><paramref name="text"/> as one safe line.</summary>
    public static string Safe(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? string.Empty;
        }

        var clean = true;
        foreach (var c in text)
        {
            if (char.IsControl(c) || c is '\u2028' or '\u2029')
            {
                clean = false;
                break;
            }
        }

        if (clean && text.Length <= MaxLength)
        {
            return text;
        }

        var builder = new StringBuilder(Math.Min(text.Length, MaxLength) + 16);
        foreach (var c in text.AsSpan(0, Math.Min(text.Length, MaxLength)))
        {
            switch (c)
            {
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                default:
                    if (char.IsControl(c) || c is '\u2028' or '\u2029')
                    {
                        builder.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        if (text.Length > MaxLength)
        {
            builder.Append("… (").Append(text.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(" characters)");
        }

        return builder.ToString();
    }
}
