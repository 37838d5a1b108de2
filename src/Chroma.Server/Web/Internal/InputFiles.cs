namespace Chroma.Server.Web.Internal;

/// <summary>
/// Resolves a record's input URI to an image file inside <see cref="WebOptions.InputRoot"/>, refusing anything that
/// leads outside it: <c>..</c> segments, absolute paths elsewhere, other URI schemes, and links whose target is
/// outside. Only image files are ever served. <see cref="Open(string, string?, out string?, out string?, out bool)"/> serves the file it checked: on Linux it checks where
/// the opened handle really leads (<c>/proc/self/fd</c>), so a file swapped for a link between the check and the read
/// (probe S's S3) is refused instead of served.
/// </summary>
internal static class InputFiles
{
    private static readonly Dictionary<string, string> ImageTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".png"] = "image/png",
        [".jpg"] = "image/jpeg",
        [".jpeg"] = "image/jpeg",
        [".gif"] = "image/gif",
        [".webp"] = "image/webp",
        [".bmp"] = "image/bmp",
    };

    // The two refusals that mean "nothing to show" (404) rather than "not allowed" (403).
    private const string NoInputUri = "the record has no input URI";
    private const string NoSuchFile = "input URI: no such file in the input folder";

    /// <summary>The file and media type <paramref name="inputUri"/> names under <paramref name="root"/>, or why it is refused.</summary>
    public static (string? Path, string? ContentType, string? Problem) Resolve(string root, string? inputUri)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (string.IsNullOrWhiteSpace(inputUri))
        {
            return (null, null, NoInputUri);
        }

        string relative;
        if (inputUri.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(inputUri, UriKind.Absolute, out var uri) || !uri.IsFile || !string.IsNullOrEmpty(uri.Host))
            {
                return (null, null, "input URI: not a local file URI");
            }

            relative = uri.LocalPath;
        }
        else if (inputUri.Contains("://", StringComparison.Ordinal) || inputUri.IndexOfAny(['\0', '?', '#']) >= 0)
        {
            return (null, null, "input URI: only paths and file: URIs inside the input folder are served");
        }
        else
        {
            relative = inputUri;
        }

        // Any ".." segment is refused outright, even one that would stay inside after normalisation.
        if (relative.Replace('\\', '/').Split('/').Any(segment => segment == ".."))
        {
            return (null, null, "input URI: '..' is not allowed");
        }

        var fullRoot = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)) + Path.DirectorySeparatorChar;
        var path = Path.GetFullPath(Path.IsPathRooted(relative) ? relative : Path.Combine(fullRoot, relative));
        if (!path.StartsWith(fullRoot, StringComparison.Ordinal))
        {
            return (null, null, "input URI: outside the input folder (Chroma:Web:InputRoot)");
        }

        if (!ImageTypes.TryGetValue(Path.GetExtension(path), out var contentType))
        {
            return (null, null, "input URI: not an image file (png, jpg, gif, webp, bmp)");
        }

        if (!File.Exists(path))
        {
            return (null, null, NoSuchFile);
        }

        // A link inside the folder may point anywhere, a link to a folder as well as one to a file: follow every link
        // on the way (the folder's own path included) and check where it really leads.
        var realRoot = RealPath(fullRoot);
        var realPath = RealPath(path);
        if (realRoot is null || realPath is null)
        {
            return (null, null, "input URI: a link that cannot be followed");
        }

        if (!realPath.StartsWith(Path.TrimEndingDirectorySeparator(realRoot) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            return (null, null, "input URI: a link leading outside the input folder");
        }

        return ImageTypes.ContainsKey(Path.GetExtension(realPath))
            ? (path, contentType, null)
            : (null, null, "input URI: a link to a file that is not an image (png, jpg, gif, webp, bmp)");
    }

    /// <summary>
    /// The input file <paramref name="inputUri"/> names under <paramref name="root"/>, opened for reading, or why it is
    /// refused (<paramref name="problem"/>; <paramref name="missing"/> when there is no such file).
    /// </summary>
    public static FileStream? Open(string root, string? inputUri, out string? contentType, out string? problem, out bool missing) =>
        Open(root, inputUri, afterCheck: null, out contentType, out problem, out missing);

    /// <summary><see cref="Open(string, string?, out string?, out string?, out bool)"/>, with <paramref name="afterCheck"/> run between the path's check and the open (tests: a swap in that window).</summary>
    internal static FileStream? Open(string root, string? inputUri, Action? afterCheck, out string? contentType, out string? problem, out bool missing)
    {
        missing = false;
        (var path, contentType, problem) = Resolve(root, inputUri);
        if (path is null)
        {
            missing = problem is NoSuchFile or NoInputUri;
            return null;
        }

        afterCheck?.Invoke();
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            (contentType, problem, missing) = (null, NoSuchFile, true);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            (contentType, problem) = (null, "input URI: the file cannot be read");
            return null;
        }

        // The path was checked before it was opened; what was opened is checked again through the handle itself.
        if (OpenedFile(stream) is { } opened && OpenedProblem(RealPath(Path.GetFullPath(root)), opened) is { } refused)
        {
            stream.Dispose();
            (contentType, problem) = (null, refused);
            return null;
        }

        return stream;
    }

    // Where the open handle really leads (Linux: /proc/self/fd/N, every link resolved by the kernel at open), or null
    // where that cannot be read (other systems, no /proc): the check made before the open then stands alone.
    private static string? OpenedFile(FileStream stream)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            return new FileInfo($"/proc/self/fd/{stream.SafeFileHandle.DangerousGetHandle()}").LinkTarget;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // Inside the real root, and an image by the name it really has (a link named x.png may lead to any file).
    private static string? OpenedProblem(string? realRoot, string opened) =>
        realRoot is null || !opened.StartsWith(Path.TrimEndingDirectorySeparator(realRoot) + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            ? "input URI: a link leading outside the input folder"
            : ImageTypes.ContainsKey(Path.GetExtension(opened)) ? null : "input URI: a link to a file that is not an image (png, jpg, gif, webp, bmp)";

    // The path with every symbolic link along it followed (what realpath(3) gives), or null for a broken or looping link.
    private static string? RealPath(string path, int depth = 0)
    {
        if (depth > 16)
        {
            return null;
        }

        var root = Path.GetPathRoot(path) ?? string.Empty;
        var current = root;
        foreach (var part in path[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (info.LinkTarget is not null)
            {
                // The target may itself lie under links: resolve it the same way.
                if (info.ResolveLinkTarget(returnFinalTarget: true) is not { } target || RealPath(target.FullName, depth + 1) is not { } resolved)
                {
                    return null;
                }

                next = resolved;
            }

            current = next;
        }

        return current;
    }
}
