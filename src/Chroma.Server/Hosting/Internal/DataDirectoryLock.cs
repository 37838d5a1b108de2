using System.Globalization;

namespace Chroma.Server.Hosting.Internal;

/// <summary>
/// The exclusive hold a server keeps on its data directory while it runs: the file <c>chroma.lock</c> open with
/// <see cref="FileShare.None"/> (an advisory <c>flock</c> on Linux and macOS, a sharing lock on Windows), so a second
/// server on the same directory is refused instead of serving a database and index files another process writes. The
/// operating system drops the lock when the process ends, however it ends: a killed server leaves no stale lock. The file
/// holds the holder's process id for an operator (<c>cat chroma.lock</c>); the offline <c>check</c> and <c>backup</c>
/// commands never take it.
/// </summary>
internal sealed class DataDirectoryLock : IDisposable
{
    /// <summary>The lock file's name in the data directory.</summary>
    public const string FileName = "chroma.lock";

    private const string ServerAdvice = "stop that server first, or give this one its own Chroma:DataDirectory (Chroma__DataDirectory)";

    private readonly FileStream _file;

    private DataDirectoryLock(FileStream file, bool openToOthers)
    {
        _file = file;
        OpenToOthers = openToOthers;
    }

    /// <summary>
    /// Gets a value indicating whether users other than the owner and its group may enter the data directory (one the
    /// operator made so; the server creates it 0700 and leaves an existing one as it is).
    /// </summary>
    public bool OpenToOthers { get; }

    /// <summary>
    /// Creates <paramref name="dataDirectory"/> when missing (owner-only: <see cref="Security.OwnerOnlyFiles"/>) and takes its lock; throws
    /// <see cref="ChromaServerStartException"/> (<see cref="ChromaServerStartFailure.DataDirectory"/>) when another server holds it.
    /// </summary>
    /// <param name="dataDirectory">The data directory.</param>
    /// <param name="inUseAdvice">What the refusal tells the operator to do; by default a server's advice (stop the other, or use another directory).</param>
    public static DataDirectoryLock Acquire(string dataDirectory, string inUseAdvice = ServerAdvice)
    {
        var directory = Security.OwnerOnlyFiles.CreateDirectory(dataDirectory);
        var path = Path.Combine(directory, FileName);
        FileStream file;
        try
        {
            file = Security.OwnerOnlyFiles.Open(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 4096);
        }
        catch (IOException ex) when (File.Exists(path) && ex is not PathTooLongException)
        {
            throw new ChromaServerStartException(
                ChromaServerStartFailure.DataDirectory,
                $"the data directory \"{directory}\" is in use by another Chroma server (its process id is in \"{path}\"); {inUseAdvice}",
                ex);
        }

        try
        {
            file.SetLength(0);
            file.Write(System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n"));
            file.Flush();
        }
        catch
        {
            file.Dispose();
            throw;
        }

        return new DataDirectoryLock(file, Security.OwnerOnlyFiles.OpenToOthers(directory));
    }

    /// <summary>Releases the lock (the file stays, so a server starting meanwhile never locks a file about to vanish).</summary>
    public void Dispose() => _file.Dispose();
}
