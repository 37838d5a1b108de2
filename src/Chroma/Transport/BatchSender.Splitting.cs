using System.Globalization;
using System.Text.RegularExpressions;
using Chroma.Batching;
using Chroma.Diagnostics;
using Chroma.Internal;
using Chroma.Protocol.V1;
using Grpc.Core;

namespace Chroma.Transport;

/// <summary>
/// Batches the server refuses for their size: one rejected for holding more records than the server's limit
/// (<c>Chroma:Limits:MaxBatchRecords</c>), or a stream ended because a message was over the server's message limit
/// (<c>Chroma:Limits:MaxMessageBytes</c>), is split in halves (each half with its own batch id; the record ids stay, so a
/// re-send stays idempotent) and re-sent, never retried whole for ever. The limits learned from the server's message are
/// applied to the batches sent after it. Only a single record the server refuses as too large is dropped (counted as
/// failed). A stream torn down without a status is ambiguous (the network, or a message the server would not read): the
/// largest unacknowledged batch is split only once that happened <see cref="AmbiguousFailuresBeforeSplit"/> times with it
/// on the wire, and nothing is dropped for it.
/// </summary>
internal sealed partial class BatchSender
{
    /// <summary>How many sends of the same oldest batch must end in a stream torn down without a status before it is split.</summary>
    internal const int AmbiguousFailuresBeforeSplit = 2;

    private int _maxRecords = int.MaxValue;
    private int _maxBytes = int.MaxValue;

    /// <summary>The most records per batch learned from the server (<see cref="int.MaxValue"/> until it refused one).</summary>
    internal int LearnedMaxRecords => _maxRecords;

    /// <summary>The largest batch message learned from the server (<see cref="int.MaxValue"/> until it refused one).</summary>
    internal int LearnedMaxBytes => _maxBytes;

    [GeneratedRegex(@"batch has (\d+) records, limit (\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex TooManyRecordsPattern();

    [GeneratedRegex(@"message limit of (\d+) bytes", RegexOptions.CultureInvariant)]
    private static partial Regex MessageLimitPattern();

    /// <summary>
    /// Splits and re-sends a batch the server rejected (in its ack) for holding more records than its limit;
    /// <see langword="false"/> when the rejection is about something else.
    /// </summary>
    private async Task<bool> TrySplitRejectedAsync(int index, LogAck ack, CancellationToken cancellationToken)
    {
        var batch = _unacked[index];

        // The limit in its own field; from servers older than the field, read from the message.
        var limit = ack.Error.MaxBatchRecords;
        if (limit <= 0 && TooManyRecordsPattern().Match(ack.Error.Message) is { Success: true } match
            && !int.TryParse(match.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out limit))
        {
            limit = int.MaxValue; // the wording, without a number this client can read: split in halves
        }

        if (ack.Error.RecordIndex >= 0 || batch.Count <= 1 || limit <= 0)
        {
            return false;
        }

        _maxRecords = Math.Min(_maxRecords, limit);

        var pieces = SplitInPlace(index, ack.Error.Message, definite: true);
        foreach (var piece in pieces)
        {
            await ResendAsync(piece, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>
    /// After a transient stream failure: splits (or, alone and refused as too large, drops) the batch it was about.
    /// <see langword="true"/> when the server said a message was over its size limit (something was split or dropped,
    /// so re-sending at once makes progress); <see langword="false"/> otherwise, including a torn-down stream after
    /// which a batch was split on suspicion (that may be the network: the usual backoff applies).
    /// </summary>
    private bool SplitAfterStreamFailure(RpcException ex)
    {
        if (_unacked.Count == 0)
        {
            return false;
        }

        var detail = ex.Status.Detail ?? string.Empty;
        if (ex.StatusCode == StatusCode.ResourceExhausted && IsMessageTooLarge(detail, out var limit))
        {
            var split = false;
            if (limit > 0)
            {
                _maxBytes = Math.Min(_maxBytes, limit);

                // The server reads nothing of a message over its limit: every unacknowledged batch over it is refused.
                for (var i = _unacked.Count - 1; i >= 0; i--)
                {
                    if (_unacked[i].Message.CalculateSize() > limit)
                    {
                        SplitInPlace(i, detail, definite: true);
                        split = true;
                    }
                }
            }

            if (!split)
            {
                // The limit is not named (or every batch seems to fit it): the largest batch on the wire is the one refused.
                SplitInPlace(Largest(minAttempts: 0, minCount: 1), detail, definite: true);
            }

            return true;
        }

        // Torn down without a status: the largest batch sent at least twice (once may be the network) is the suspect.
        // Acks the stream carried before it broke may not have been read, so the oldest batch is not necessarily it.
        if (ex.StatusCode == StatusCode.Cancelled && Largest(AmbiguousFailuresBeforeSplit, minCount: 2) is >= 0 and var suspect)
        {
            SplitInPlace(suspect, $"the stream was torn down {_unacked[suspect].Attempts} times with it in flight: {detail}", definite: false);
        }

        return false;
    }

    /// <summary>The index of the largest unacknowledged batch (encoded size) sent that often with that many records, or -1.</summary>
    private int Largest(int minAttempts, int minCount)
    {
        var index = -1;
        var largest = -1;
        for (var i = 0; i < _unacked.Count; i++)
        {
            var batch = _unacked[i];
            if (batch.Attempts >= minAttempts && batch.Count >= minCount && batch.Message.CalculateSize() is var size && size > largest)
            {
                index = i;
                largest = size;
            }
        }

        return index;
    }

    /// <summary>
    /// Whether <paramref name="detail"/> says a message was over a size limit (the server's, or the client's own send
    /// limit); <paramref name="limit"/> is that limit in bytes, or 0 when not named.
    /// </summary>
    private static bool IsMessageTooLarge(string detail, out int limit)
    {
        limit = 0;
        var match = MessageLimitPattern().Match(detail);
        if (match.Success)
        {
            _ = int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out limit);
            return true;
        }

        if (detail.Contains("Sending message exceeds the maximum configured message size", StringComparison.OrdinalIgnoreCase))
        {
            limit = GrpcChannelFactory.MaxMessageBytes;
            return true;
        }

        return detail.Contains("message exceeds the maximum configured message size", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Replaces <c>_unacked[index]</c> by its halves (halved again until each fits the learned limits); a single record
    /// over the learned message limit, or refused alone for certain, is dropped and counted as failed. Returns the pieces kept.
    /// </summary>
    private List<OutgoingBatch> SplitInPlace(int index, string reason, bool definite)
    {
        var batch = _unacked[index];
        _unacked.RemoveAt(index);
        var setId = SetIdOf(batch.Message);
        var bytes = batch.Message.CalculateSize();
        List<LogBatch> halves;
        if (batch.Count <= 1)
        {
            halves = [batch.Message];
        }
        else
        {
            halves = [];
            var half = batch.Count / 2;
            Fit(Piece(batch.Message, 0, half), halves);
            Fit(Piece(batch.Message, half, batch.Count - half), halves);
            ChromaClientLog.BatchSplit(_logger, batch.Count, bytes, setId, reason, halves.Count);
        }

        var kept = new List<OutgoingBatch>(halves.Count);
        foreach (var message in halves)
        {
            if (message.Records.Count == 1 && (definite && batch.Count == 1 || message.CalculateSize() > _maxBytes))
            {
                var limit = _maxBytes == int.MaxValue ? "not named" : _maxBytes.ToString(CultureInfo.InvariantCulture);
                ChromaClientLog.RecordTooLarge(_logger, message.CalculateSize(), setId, limit, reason);
                _counters.AddFailed(1);
                continue;
            }

            kept.Add(new OutgoingBatch(message));
        }

        _unacked.InsertRange(index, kept);
        return kept;
    }

    /// <summary>A batch read from the queue, split first when it is over a limit the server named before.</summary>
    private List<OutgoingBatch> FitLearnedLimits(OutgoingBatch batch)
    {
        if ((_maxRecords == int.MaxValue && _maxBytes == int.MaxValue)
            || (batch.Count <= _maxRecords && (_maxBytes == int.MaxValue || batch.Message.CalculateSize() <= _maxBytes)))
        {
            return [batch];
        }

        var pieces = new List<LogBatch>();
        Fit(batch.Message, pieces);
        var kept = new List<OutgoingBatch>(pieces.Count);
        foreach (var message in pieces)
        {
            if (message.Records.Count == 1 && message.CalculateSize() > _maxBytes)
            {
                ChromaClientLog.RecordTooLarge(
                    _logger, message.CalculateSize(), SetIdOf(message), _maxBytes.ToString(CultureInfo.InvariantCulture), "learned from an earlier refusal");
                _counters.AddFailed(1);
                continue;
            }

            kept.Add(new OutgoingBatch(message));
        }

        return kept;
    }

    /// <summary>Adds <paramref name="message"/> to <paramref name="into"/>, halved until each piece fits the learned limits.</summary>
    private void Fit(LogBatch message, List<LogBatch> into)
    {
        var count = message.Records.Count;
        if (count <= 1 || (count <= _maxRecords && (_maxBytes == int.MaxValue || message.CalculateSize() <= _maxBytes)))
        {
            into.Add(message);
            return;
        }

        var half = count / 2;
        Fit(Piece(message, 0, half), into);
        Fit(Piece(message, half, count - half), into);
    }

    /// <summary>Records <paramref name="start"/> .. <paramref name="start"/> + <paramref name="count"/> as a batch of their own, under a new id.</summary>
    private static LogBatch Piece(LogBatch message, int start, int count)
    {
        var piece = new LogBatch { BatchId = RecordIds.NewBatchId(), Set = message.Set };
        for (var i = start; i < start + count; i++)
        {
            piece.Records.Add(message.Records[i]);
        }

        return piece;
    }

    private static string SetIdOf(LogBatch message) =>
        message.Set?.Model + "/" + message.Set?.ModelVersion + "/" + message.Set?.Layer;
}
