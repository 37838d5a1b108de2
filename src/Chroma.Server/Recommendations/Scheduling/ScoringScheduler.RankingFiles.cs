using System.Diagnostics;

namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>
/// A clean stop saves every set's ranking (<see cref="RankingFiles"/>), and the next start reads it instead of every
/// stored score. The files are written once the scoring passes have stopped, beside the index saves of the stop (the
/// host stops its services one after the other: the write starts in <see cref="StopAsync"/> and is awaited in
/// <see cref="StoppedAsync"/>, so it does not hold up the indexes' saves); what the shutdown timeout cuts short leaves
/// no file.
/// </summary>
internal sealed partial class ScoringScheduler
{
    private readonly RankingFiles? _rankings;
    private readonly bool _saveRankings;
    private readonly Dictionary<long, long> _lastAtStart = [];
    private Task? _savingRankings;

    /// <summary>Gets how many sets this start read back from their ranking files (the others from the database).</summary>
    internal int RankingFilesRead { get; private set; }

    /// <summary>Gets the task saving the rankings at the stop (null before the stop, or when nothing is saved); tests wait on it.</summary>
    internal Task? SavingRankings => _savingRankings;

    /// <inheritdoc />
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Waits for the rankings being saved (the shutdown timeout ends the wait and the write: no file is left half written).</summary>
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (_savingRankings is { } saving)
        {
            await saving.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    // The ranking file the last stop left for the set, if it may be used (the set unchanged since); null reads the database.
    private SavedRanking? TakeSavedRanking(SetScoringState state, CancellationToken cancellationToken)
    {
        var saved = _rankings is not null && _saveRankings && _lastAtStart.TryGetValue(state.Set.Key, out var last)
            ? _rankings.Take(state.Set, last, cancellationToken)
            : null;
        RankingFilesRead += saved is null ? 0 : 1;
        return saved;
    }

    private void StartSavingRankings(CancellationToken cancellationToken)
    {
        // Only once every pass ended cleanly: the entries are then exactly the stored scores of live records.
        if (_rankings is null || !_saveRankings || ExecuteTask is not { IsCompletedSuccessfully: true })
        {
            return;
        }

        _savingRankings = Task.Run(() => SaveRankings(cancellationToken), CancellationToken.None);
    }

    /// <summary>Saves every read-back set's ranking file (a clean stop does, within the shutdown timeout <paramref name="cancellationToken"/> ends).</summary>
    internal void SaveRankings(CancellationToken cancellationToken)
    {
        if (_rankings is not { } rankings)
        {
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var sets = 0;
        long records = 0, bytes = 0;
        var all = _states.Values.ToList();
        for (var i = 0; i < all.Count; i++)
        {
            var state = all[i];
            if (state.AwaitingRestore || !state.Restored)
            {
                // Not read back (the stop came first): its file, if any, is still the one the last stop wrote.
                continue;
            }

            try
            {
                // The change sequence first: a delete committed after it raises it, so the file is refused at the start.
                var last = _store.ReadLastSequence(state.Set);
                state.ApplyDeletes();
                if (state.Refitting)
                {
                    // The stored scores are part old, part new: the next start reads them as a whole.
                    rankings.Discard(state.Set.Key);
                    ScoringLog.RankingFileNotSaved(_logger, null, state.Set.SetId, "a refit was under way");
                    continue;
                }

                if (state.Entries.Count == 0)
                {
                    rankings.Discard(state.Set.Key);
                    continue;
                }

                var entries = state.EntriesInSequenceOrder();
                var header = new RankingFileHeader(state.Set.Key, state.Set.SetId, state.Set.Dimension, last, state.Published.ComputedUnixMs, entries.Length);
                bytes += rankings.Save(header, entries, cancellationToken);
                sets++;
                records += entries.Length;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Every set left is named by count, not only the one under way (probe X, X7: 989 of 5,000 sets were not
                // saved and the log named one); what was saved is still said.
                ScoringLog.RankingFilesNotSavedAtStop(_logger, all.Count - i, all.Count, state.Set.SetId);
                break;
            }
#pragma warning disable CA1031 // One set's file that cannot be written costs its next start the database read, nothing else.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                ScoringLog.RankingFileNotSaved(_logger, ex, state.Set.SetId, ex.Message);
            }
        }

        if (sets > 0)
        {
            var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            ScoringLog.RankingFilesSaved(_logger, sets, records, bytes / (1024.0 * 1024), elapsedMs);
        }
    }
}
