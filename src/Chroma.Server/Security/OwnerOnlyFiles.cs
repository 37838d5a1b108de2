namespace Chroma.Server.Security;

/// <summary>
/// Creates the data directory, its folders and the files the server writes there readable by the server's own user
/// only (on Unix: folders 0700, files 0600; Windows files inherit the folder's access list). The database holds every
/// record, label, reviewer and note, and under the usual umask 022 they were created 0755 and 0644: readable by every
/// local user (probe S, S7). Only what the server creates gets these modes; a folder or file that exists keeps the
/// modes its owner gave it.
/// </summary>
internal static class OwnerOnlyFiles
{
    /// <summary>The mode of a folder the server creates: 0700.</summary>
    public const UnixFileMode FolderPermissions = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>The mode of a file the server creates: 0600.</summary>
    public const UnixFileMode FilePermissions = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Creates <paramref name="path"/> 0700 when missing (the folders above it that are missing too get the usual
    /// modes); an existing folder is left as it is. Returns the full path.
    /// </summary>
    public static string CreateDirectory(string path)
    {
        var full = Path.GetFullPath(path);
        if (OperatingSystem.IsWindows() || Directory.Exists(full))
        {
            Directory.CreateDirectory(full);
            return full;
        }

        if (Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(full)) is { } parent)
        {
            Directory.CreateDirectory(parent);
        }

        Directory.CreateDirectory(full, FolderPermissions);
        return full;
    }

    /// <summary>
    /// Creates the empty file <paramref name="path"/> 0600 when missing, so a program that then creates it if missing
    /// (SQLite, which gives its <c>-wal</c> and <c>-shm</c> files the main file's mode) finds it owner-only.
    /// </summary>
    public static void CreateEmptyIfMissing(string path)
    {
        if (File.Exists(path))
        {
            return;
        }

        try
        {
            Open(path, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0).Dispose();
        }
        catch (IOException) when (File.Exists(path))
        {
            // Created meanwhile by another opener: its mode is its creator's.
        }
    }

    /// <summary>A <see cref="FileStream"/> like <c>new FileStream(...)</c>, the file created 0600 when it is created.</summary>
    public static FileStream Open(string path, FileMode mode, FileAccess access, FileShare share, int bufferSize)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share, BufferSize = bufferSize };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FilePermissions;
        }

        return new FileStream(path, options);
    }

    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/> (replacing its content), the file created 0600.</summary>
    public static void WriteAllText(string path, string text)
    {
        using var stream = Open(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        using var writer = new StreamWriter(stream);
        writer.Write(text);
    }

    /// <summary>
    /// Whether users other than the owner and its group may list or enter <paramref name="directory"/> (and so read
    /// the files in it that their modes let them); false on Windows.
    /// </summary>
    public static bool OpenToOthers(string directory) =>
        !OperatingSystem.IsWindows()
        && (File.GetUnixFileMode(directory) & (UnixFileMode.OtherRead | UnixFileMode.OtherExecute)) != 0;
}
