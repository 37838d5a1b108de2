using System.Diagnostics;
using System.Globalization;
using Chroma.Server.Storage;

namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>A ranking read from its file at a start (see <see cref="RankingFiles.Take"/>).</summary>
/// <param name="Header">What the file says about its set.</param>
/// <param name="Entries">The scored records, in sequence order.</param>
/// <param name="Bytes">The file's size.</param>
/// <param name="ReadMs">How long the read took.</param>
internal sealed record SavedRanking(RankingFileHeader Header, List<ScoredEntry> Entries, long Bytes, double ReadMs);

/// <summary>
/// The folder (<c>rankings</c> in the data directory) where a server that stops cleanly leaves each set's ranking
/// (<see cref="RankingFile"/>), so its next start serves it again in seconds instead of reading every stored score
/// back from the database (about 30 s for 1.44 million records). A file is only a faster copy of what the database
/// holds, and is used only while it certainly is one:
/// <list type="bullet">
/// <item>it is written after the scoring passes have stopped, with the set's change sequence (which every insert and
/// delete raises) read before its entries were taken;</item>
/// <item>the next start uses it only when the set's change sequence is still that one, and removes it before using it,
/// so a file is never used twice and none is left for a later start once scoring ran again (a crash, a
/// <c>kill -9</c>, leaves none);</item>
/// <item>any other file (another set's, a stale or damaged one, one cut short) is removed, logged, and the stored
/// scores are read from the database as before.</item>
/// </list>
/// </summary>
internal sealed class RankingFiles
{
    private const string Extension = ".ranking";
    private const string PartialExtension = ".ranking.partial";

    private readonly ILogger _logger;

    /// <summary>Uses <paramref name="directory"/> (created when the first file is written).</summary>
    public RankingFiles(string directory, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = Path.GetFullPath(directory);
        _logger = logger;
    }

    /// <summary>Gets the folder.</summary>
    public string Directory { get; }

    /// <summary>The file of the set with key <paramref name="setKey"/>.</summary>
    public string PathOf(long setKey) => Path.Combine(Directory, setKey.ToString(CultureInfo.InvariantCulture) + Extension);

    /// <summary>
    /// Writes the set's ranking: to a partial file first, then renamed over the set's file, so a stop cut short leaves no
    /// file rather than half of one. Returns the file's size.
    /// </summary>
    public long Save(RankingFileHeader header, IReadOnlyList<ScoredEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(header);
        Security.OwnerOnlyFiles.CreateDirectory(Directory);
        var path = PathOf(header.SetKey);
        var partial = Path.ChangeExtension(path, PartialExtension);
        try
        {
            long bytes;
            using (var stream = Security.OwnerOnlyFiles.Open(partial, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                // Not flushed to disk (1 GB took 1-3 s of a 5 s shutdown): a file a power loss damaged fails its checksum.
                RankingFile.Write(stream, header, entries, cancellationToken);
                bytes = stream.Length;
            }

            File.Move(partial, path, overwrite: true);
            return bytes;
        }
        catch
        {
            TryDelete(partial);
            throw;
        }
    }

    /// <summary>
    /// The ranking left for <paramref name="set"/> by the last clean stop, when the set's change sequence is still
    /// <paramref name="lastSequence"/> (nothing inserted or deleted since): the file is removed first, and used only
    /// once that succeeded. Null when there is none, and (logged, the file removed) when it does not fit the set or
    /// cannot be read. Never throws but for <paramref name="cancellationToken"/>.
    /// </summary>
    public SavedRanking? Take(StoredEmbeddingSet set, long lastSequence, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(set);
        var path = PathOf(set.Key);
        if (!File.Exists(path))
        {
            return null;
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            RankingFileHeader header;
            List<ScoredEntry> entries;
            long bytes;
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0))
            {
                bytes = stream.Length;
                header = RankingFile.ReadHeader(stream);
                if (Misfit(header, set, lastSequence) is { } misfit)
                {
                    // Refused below, once the file is closed (a file still open cannot be removed everywhere).
                    throw new InvalidDataException(misfit);
                }

                entries = RankingFile.ReadEntries(stream, header, cancellationToken);
            }

            // Removed before use: a file is never used twice, so none outlives the scoring that follows this start.
            File.Delete(path);
            return new SavedRanking(header, entries, bytes, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // A file that cannot be read or removed is refused; the database has the same scores.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Refuse(set, path, ex.Message);
            return null;
        }
    }

    /// <summary>Removes the set's file, if any (quietly: at worst the next start refuses it).</summary>
    public void Discard(long setKey) => TryDelete(PathOf(setKey));

    /// <summary>Removes every file left in the folder (sets deleted since, partial writes) once every set was read back.</summary>
    public void RemoveLeftovers()
    {
        try
        {
            if (System.IO.Directory.Exists(Directory))
            {
                foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*" + Extension + "*"))
                {
                    TryDelete(path);
                }
            }
        }
        catch (IOException)
        {
            // The folder went while it was read: nothing left in it to use.
        }
        catch (UnauthorizedAccessException)
        {
            // Unreadable: any file in it would be refused by its read too.
        }
    }

    private static string? Misfit(RankingFileHeader header, StoredEmbeddingSet set, long lastSequence)
    {
        if (header.SetKey != set.Key || !string.Equals(header.SetId, set.SetId, StringComparison.Ordinal) || header.Dimension != set.Dimension)
        {
            return string.Create(CultureInfo.InvariantCulture, $"it was written for set '{header.SetId}' ({header.Dimension}-d, key {header.SetKey})");
        }

        return header.LastSequence != lastSequence
            ? string.Create(CultureInfo.InvariantCulture, $"records were stored or deleted since it was written (change sequence {header.LastSequence}, now {lastSequence})")
            : null;
    }

    private void Refuse(StoredEmbeddingSet set, string path, string reason)
    {
        ScoringLog.RankingFileRefused(_logger, set.SetId, path, reason);
        TryDelete(path);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
