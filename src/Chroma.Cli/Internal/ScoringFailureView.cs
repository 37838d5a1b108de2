using System.Globalization;

namespace Chroma.Server.Cli.Internal;

/// <summary>Why a set's last scoring pass failed on the server, as the CLI prints it (time in Unix ms).</summary>
internal sealed record ScoringFailureView(string Message, long FailedUnixMs, int ConsecutiveFailures)
{
    /// <summary>Maps a failure the client read, or null when there was none.</summary>
    public static ScoringFailureView? From(ScoringFailure? failure) =>
        failure is null ? null : new ScoringFailureView(failure.Message, failure.FailedAt.ToUnixTimeMilliseconds(), failure.ConsecutiveFailures);

    /// <summary>One line: "Scoring of 'set' failed (2 passes in a row, last at 2026-12-06 00:50:00 UTC): message. ...".</summary>
    public string Describe(string setId)
    {
        var when = DateTimeOffset.FromUnixTimeMilliseconds(FailedUnixMs).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        var count = ConsecutiveFailures == 1 ? "the last pass" : string.Create(CultureInfo.InvariantCulture, $"{ConsecutiveFailures} passes in a row");
        return $"scoring of '{setId}' failed ({count}, last at {when} UTC): {Message}. Its recommendations are not current; the set's next change (a record logged or deleted) starts the next pass.";
    }
}
