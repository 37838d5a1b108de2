namespace Chroma.Server.Storage.Internal;

/// <summary>
/// A file (<c>clean-shutdown</c>) in the data directory that exists only while no store has the database open, written
/// after a store closed its database cleanly. A database without it was left by a crash, a SIGKILL or a power loss,
/// and gets an integrity check before it is served.
/// </summary>
internal sealed class CleanShutdownMarker(string dataDirectory)
{
    /// <summary>The marker's file name inside the data directory.</summary>
    public const string FileName = "clean-shutdown";

    private readonly string _path = Path.Combine(dataDirectory, FileName);

    /// <summary>Gets a value indicating whether the last store to use the directory closed it cleanly.</summary>
    public bool Exists => File.Exists(_path);

    /// <summary>Removes the marker: the database is in use from now on.</summary>
    public void Remove() => File.Delete(_path);

    /// <summary>Writes the marker once the database is closed (the time helps a person reading the directory).</summary>
    public void Write(DateTimeOffset now) =>
        Security.OwnerOnlyFiles.WriteAllText(_path, now.ToString("O", System.Globalization.CultureInfo.InvariantCulture) + Environment.NewLine);
}
