namespace Chroma.Samples.Shared;

/// <summary>
/// Where a sample's embedded server keeps its data: a new folder under the system temp directory
/// (<c>$TMPDIR</c>, else <c>/tmp</c> on Linux), deleted on disposal. Declare it before the server so the server is
/// disposed first and its files are closed.
/// </summary>
internal sealed class TemporaryDataDirectory : IDisposable
{
    /// <summary>Names a new folder <c>chroma-&lt;sample&gt;-&lt;random&gt;</c>; the server creates it.</summary>
    /// <param name="sample">A short name of the sample, part of the folder name.</param>
    public TemporaryDataDirectory(string sample)
    {
        FullPath = Path.Combine(Path.GetTempPath(), $"chroma-{sample}-{Guid.NewGuid().ToString("N")[..8]}");
    }

    /// <summary>The folder's full path.</summary>
    public string FullPath { get; }

    /// <summary>Deletes the folder and everything in it; a file still held open leaves it behind (the message says so).</summary>
    public void Dispose()
    {
        try
        {
            if (Directory.Exists(FullPath))
            {
                Directory.Delete(FullPath, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"Could not delete the sample's data folder {FullPath}: {ex.Message}");
        }
    }
}
