using Chroma.Server.Storage;

namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>
/// Why a set's last scoring pass on this replica failed, as clients see it (GetRecommendations and ListSets): kept until
/// the next pass that publishes a ranking (see <see cref="SetCoverage.PassEnded"/>).
/// </summary>
/// <param name="Message">What went wrong: the exception's message, never its stack trace.</param>
/// <param name="FailedAt">When the pass failed.</param>
/// <param name="ConsecutiveFailures">Passes of the set that failed in a row, this one included (1 or more).</param>
/// <param name="StoredAtStart">The latest sequence stored when the pass started: what it would have covered.</param>
/// <param name="DeletesAtStart">The deletes it would have applied (counted as <see cref="SetCoverage.DeletesCovered"/> counts them).</param>
internal sealed record ScoringFailure(string Message, DateTimeOffset FailedAt, int ConsecutiveFailures, long StoredAtStart, long DeletesAtStart)
{
    // A message is one line of an answer, not a log: an exception that explains itself at length is cut here.
    private const int MaxMessageLength = 1_000;

    /// <summary>
    /// The failure of a pass that threw <paramref name="exception"/>, following <paramref name="previous"/> (the set's
    /// last failure, or null after a success).
    /// </summary>
    public static ScoringFailure Of(Exception exception, ScoringFailure? previous, DateTimeOffset failedAt, long storedAtStart, long deletesAtStart)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return new ScoringFailure(Describe(exception), failedAt, (previous?.ConsecutiveFailures ?? 0) + 1, storedAtStart, deletesAtStart);
    }

    // A database driver's message can name the host it could not reach: an outage is said in the words a query
    // answers it with (StorageOutageInterceptor), any other failure with the exception's own message.
    private static string Describe(Exception exception)
    {
        var message = StorageOutage.Is(exception)
            ? "the database is unavailable (the server keeps running and retries the pass when it is back)"
            : string.IsNullOrWhiteSpace(exception.Message) ? exception.GetType().Name : exception.Message.ReplaceLineEndings(" ");
        return message.Length <= MaxMessageLength ? message : string.Concat(message.AsSpan(0, MaxMessageLength - 3), "...");
    }
}
