using Spectre.Console;

namespace Chroma.Server.Cli.Internal;

/// <summary>
/// What the export commands share: the <c>--set</c> and <c>--format</c> (csv or jsonl) arguments, and where the rows go:
/// standard output (the data only) or the <c>--out</c> file (UTF-8 without BOM; written in full or not at all, see
/// <see cref="OutputFile"/>), followed by a one-line summary.
/// </summary>
/// <param name="SetId">The set to export.</param>
/// <param name="Format">The format as given: <c>csv</c> or <c>jsonl</c>.</param>
/// <param name="Path">The file to write, or <see langword="null"/> for standard output.</param>
internal sealed record ExportTarget(string SetId, string Format, string? Path)
{
    /// <summary>Gets a value indicating whether the rows are CSV (otherwise JSON lines).</summary>
    public bool Csv => Format == "csv";

    /// <summary>
    /// Reads the set, format and output file; a format other than csv or jsonl, or an <c>--out</c> file in a folder that
    /// does not exist, is a usage error naming the option (before any call to the server).
    /// </summary>
    public static ExportTarget Read(CliArguments arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var setId = arguments.Require("set");
        var format = arguments.Require("format");
        if (format is not ("csv" or "jsonl"))
        {
            throw new CliUsageException($"--format must be csv or jsonl (got '{format}')");
        }

        var path = arguments.Get("out");
        if (path is not null)
        {
            OutputFile.Check(path);
        }

        return new ExportTarget(setId, format, path);
    }

    /// <summary>
    /// Runs <paramref name="write"/> on standard output, or on the file and then prints how many
    /// <paramref name="what"/> it wrote (a JSON line with <c>--json</c>). <paramref name="write"/> is told whether it
    /// writes to a file (where a progress bar may go to the console) and returns how many rows it wrote.
    /// </summary>
    public async Task<int> WriteAsync(CliContext context, string what, Func<TextWriter, bool, Task<long>> write)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(write);
        if (Path is null)
        {
            // Standard output carries the data itself: no progress bar, no summary.
            await write(context.Output, false).ConfigureAwait(false);
            return CliExitCode.Success;
        }

        var written = await OutputFile.WriteAsync(Path, file => write(file, true)).ConfigureAwait(false);
        var fullPath = System.IO.Path.GetFullPath(Path);
        if (context.Arguments.Json)
        {
            await CliJson.WriteLineAsync(context.Output, new { setId = SetId, format = Format, records = written, @out = fullPath }).ConfigureAwait(false);
        }
        else
        {
            context.Console.MarkupLineInterpolated($"Exported [bold]{written:N0}[/] {what} of {SetId} to {fullPath}");
        }

        return CliExitCode.Success;
    }
}
