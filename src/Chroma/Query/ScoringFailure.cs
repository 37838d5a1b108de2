namespace Chroma;

/// <summary>
/// Why a set's last scoring pass failed on the server (a fit that threw, memory that ran out, a database outage, a bug):
/// the ranking served is then the last one a pass completed, and records stored since are not scored. The set's next
/// change (a record logged, a delete) starts the next pass; the first that succeeds clears the failure. With several
/// server replicas on one PostgreSQL database only the replica that scores the set reports it.
/// </summary>
public sealed class ScoringFailure
{
    /// <summary>Gets what went wrong, one line: the server's exception message (never a stack trace).</summary>
    public required string Message { get; init; }

    /// <summary>Gets when the last failed pass failed (the server's clock).</summary>
    public required DateTimeOffset FailedAt { get; init; }

    /// <summary>Gets how many passes of the set failed in a row, the last one included (1 or more).</summary>
    public required int ConsecutiveFailures { get; init; }

    /// <inheritdoc />
    public override string ToString() => ConsecutiveFailures == 1
        ? FormattableString.Invariant($"scoring pass failed at {FailedAt:u}: {Message}")
        : FormattableString.Invariant($"scoring pass failed {ConsecutiveFailures} times in a row, last at {FailedAt:u}: {Message}");

    /// <summary>The failure a response carried, or null when it carried none.</summary>
    internal static ScoringFailure? From(Protocol.V1.ScoringFailure? failure) => failure is null ? null : new ScoringFailure
    {
        Message = failure.Message,
        FailedAt = DateTimeOffset.FromUnixTimeMilliseconds(failure.FailedUnixMs),
        ConsecutiveFailures = failure.ConsecutiveFailures,
    };
}
