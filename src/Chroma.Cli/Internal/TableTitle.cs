using Spectre.Console;

namespace Chroma.Server.Cli.Internal;

/// <summary>
/// Writes a table under a title line. Spectre's own table title wraps the title at the table's
/// width, which cuts a long title (a set id, a count) even where rows are never wrapped (piped output); a line of its own does not.
/// </summary>
internal static class TableTitle
{
    /// <summary>Writes <paramref name="title"/> (plain text, not markup) on its own line, then <paramref name="table"/>.</summary>
    public static void WriteTitled(this IAnsiConsole console, string title, Table table)
    {
        ArgumentNullException.ThrowIfNull(console);
        console.WriteLine(title);
        console.Write(table);
    }
}
