using System.Text;

namespace Chroma.Server.Cli.Internal;

/// <summary>
/// The <c>--out</c> file of <c>export</c>, <c>export-labels</c> and <c>report</c>: its folder is checked before any call to
/// the server, and the file is written under a temporary name in the same folder and renamed only once it is complete,
/// so a command that fails part way leaves no partial file (and an earlier file of that name as it was). The file holds
/// records, labels, reviewers and notes: on Unix it is created readable by its owner only (0600), as the server's data
/// files are (probe S, S7); <c>chmod</c> it to share it.
/// A path that is a link, or an existing empty file (what a device, a named pipe or <c>/proc</c> entry reports), is
/// written through instead, as a shell's <c>&gt;</c> writes it: a rename would replace the link or the device itself
/// (probe X, X3: run as root, <c>--out /dev/stdout</c> replaced the system's <c>/dev/stdout</c> link with a file, and
/// <c>--out</c> a named pipe left its reader waiting).
/// </summary>
internal static class OutputFile
{
    /// <summary>Throws <see cref="CliUsageException"/> naming <c>--out</c> when <paramref name="path"/> cannot be written (its folder is missing, or it is a folder).</summary>
    public static void Check(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var fullPath = Path.GetFullPath(path);
        if (Directory.Exists(fullPath))
        {
            throw new CliUsageException($"--out '{path}' is a folder; name a file in it");
        }

        var folder = Path.GetDirectoryName(fullPath);
        if (folder is not null && !Directory.Exists(folder))
        {
            throw new CliUsageException($"--out '{path}': the folder '{folder}' does not exist");
        }
    }

    /// <summary>
    /// Runs <paramref name="write"/> on a temporary file next to <paramref name="path"/> (UTF-8 without BOM), then renames it
    /// to <paramref name="path"/>; when <paramref name="write"/> throws, the temporary file is deleted and nothing is renamed.
    /// </summary>
    public static async Task<T> WriteAsync<T>(string path, Func<TextWriter, Task<T>> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        var fullPath = Path.GetFullPath(path);
        if (WritesThrough(fullPath))
        {
            // FileMode.Create truncates a file (as '>' does) and is ignored by pipes and devices; a file it creates at the
            // end of a dangling link is 0600 like any other.
            return await WriteToAsync(fullPath, FileMode.Create, FileShare.ReadWrite, write).ConfigureAwait(false);
        }

        var temporary = Path.Combine(Path.GetDirectoryName(fullPath) ?? ".", $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            var result = await WriteToAsync(temporary, FileMode.CreateNew, FileShare.None, write).ConfigureAwait(false);
            File.Move(temporary, fullPath, overwrite: true);
            return result;
        }
        finally
        {
            // Still there only when the write or the rename failed.
            File.Delete(temporary);
        }
    }

    /// <summary>
    /// Whether <paramref name="fullPath"/> is written in place rather than replaced: a link (<c>/dev/stdout</c>,
    /// <c>/dev/fd/63</c> of <c>&gt;(gzip)</c>, a link to a file), or an existing entry of length 0. Devices, named pipes
    /// and sockets report 0, and .NET does not say which kind of entry a path is; an empty regular file loses nothing by
    /// being written in place.
    /// </summary>
    internal static bool WritesThrough(string fullPath)
    {
        var info = new FileInfo(fullPath);
        return info.LinkTarget is not null || (info.Exists && info.Length == 0);
    }

    // Runs `write` on `path` opened as asked (UTF-8 without BOM; created 0600), and closes it.
    private static async Task<T> WriteToAsync<T>(string path, FileMode mode, FileShare share, Func<TextWriter, Task<T>> write)
    {
        var stream = Chroma.Server.Security.OwnerOnlyFiles.Open(path, mode, FileAccess.Write, share, bufferSize: 4096);
        var file = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        await using (file.ConfigureAwait(false))
        {
            return await write(file).ConfigureAwait(false);
        }
    }
}
