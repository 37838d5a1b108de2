using System.Globalization;

namespace Chroma.Server.Cli.Internal;

/// <summary>Why a set's last scoring pass failed on the server, as the CLI prints it (time in Unix ms).</summary>
internal sealed record ScoringFailureView(string Message, long FailedUnixMs, int ConsecutiveFailures)
{
    /// <summary>Maps a failure the client read, or null when there was none.</summary>
    public static ScoringFailureView? From(ScoringFailure? failure) =>
        failure is null ? null : new ScoringFailureView(failure.Message, failure.FailedAt.ToUnixTimeMilliseconds(), failure.ConsecutiveFailures);

    /// <summary>
    /// One line: "scoring of 'set' failed 2 times in a row, last at 2026-12-06 00:50:00 UTC: message. ..." (once:
    /// "failed at ...").
    /// </summary>
    public string Describe(string setId)
    {
        var when = DateTimeOffset.FromUnixTimeMilliseconds(FailedUnixMs).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        var count = ConsecutiveFailures == 1 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $" {ConsecutiveFailures} times in a row, last");
        return $"scoring of '{setId}' failed{count} at {when} UTC: {Message.TrimEnd('.')}. Its recommendations are the last ranking a pass completed; "
            + "the set's next change (a record logged or deleted) starts the next pass.";
    }
}
