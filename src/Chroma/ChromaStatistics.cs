namespace Chroma;

/// <summary>
/// What happened to the records a client captured. Every received record ends as exactly one of exported, dropped or
/// failed; the rest are still queued or in flight.
/// </summary>
/// <param name="Received">Records passed to a <c>Log</c> method while capture was enabled.</param>
/// <param name="Dropped">Records never queued: the queue was full, the client was disposed, or the record was invalid.</param>
/// <param name="DroppedInvalid">The part of <paramref name="Dropped"/> that was invalid (wrong dimension, NaN, bad dataset name).</param>
/// <param name="Exported">Records the server acknowledged as durable (including re-sent ones it already had).</param>
/// <param name="Failed">Records the server rejected, or that could not be delivered before the client was disposed.</param>
/// <param name="Queued">Records waiting in memory or on the wire now.</param>
public readonly record struct ChromaStatistics(long Received, long Dropped, long DroppedInvalid, long Exported, long Failed, long Queued);
