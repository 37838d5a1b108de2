using System.Text;

namespace Chroma.Server.Cli.Internal;

/// <summary>
/// The <c>--out</c> file of <c>export</c>, <c>export-labels</c> and <c>report</c>: its folder is checked before any call to
/// the server, and the file is written under a temporary name in the same folder and renamed only once it is complete,
/// so a command that fails part way leaves no partial file (and an earlier file of that name as it was). The file holds
/// records, labels, reviewers and notes: on Unix it is created readable by its owner only (0600), as the server's data
/// files are (probe S, S7); <c>chmod</c> it to share it.
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
        var temporary = Path.Combine(Path.GetDirectoryName(fullPath) ?? ".", $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            T result;
            var stream = Chroma.Server.Security.OwnerOnlyFiles.Open(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 4096);
            var file = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            await using (file.ConfigureAwait(false))
            {
                result = await write(file).ConfigureAwait(false);
            }

            File.Move(temporary, fullPath, overwrite: true);
            return result;
        }
        finally
        {
            // Still there only when the write or the rename failed.
            File.Delete(temporary);
        }
    }
}
