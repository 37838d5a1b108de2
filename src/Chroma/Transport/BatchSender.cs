using System.Threading.Channels;
using Chroma.Batching;
using Chroma.Diagnostics;
using Chroma.Internal;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Polly;

namespace Chroma.Transport;

/// <summary>
/// The single writer of the ingest stream. Keeps up to <c>MaxBatchesInFlight</c> batches on the wire, counts a batch
/// as exported only when the server acknowledges it as durable, and after any transient failure re-opens the stream
/// (with Polly backoff) and re-sends every unacknowledged batch with the same ids, so the server stores each record once.
/// </summary>
internal sealed partial class BatchSender
{
    private readonly ChannelReader<OutgoingBatch> _batches;
    private readonly IIngestSessionFactory _sessions;
    private readonly ResiliencePipeline _retry;
    private readonly ClientCounters _counters;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _window;
    private readonly TimeSpan _ackTimeout;
    private readonly List<OutgoingBatch> _unacked = [];
    private IIngestSession? _session;
    private Task<LogAckResult>? _ackRead;
    private Task<bool>? _batchWait;
    private bool _inputCompleted;
    private long _lastProgress;
    private long _lastRefusalWarning; // when a batch the server refused for now was last logged as a warning; 0: never
    private int _consecutiveFailures;
    private long _lastAckUnixMs;
    private int _permanentFailureLogged; // the status code + 1 of the last permanent failure logged as an error; 0 after an ack
    private string? _refusal; // the last permanent failure (status and detail) since the last ack

    public BatchSender(
        ChannelReader<OutgoingBatch> batches,
        IIngestSessionFactory sessions,
        ResiliencePipeline retry,
        ClientCounters counters,
        int maxBatchesInFlight,
        TimeSpan ackTimeout,
        TimeProvider time,
        ILogger logger)
    {
        _batches = batches;
        _sessions = sessions;
        _retry = retry;
        _counters = counters;
        _window = maxBatchesInFlight;
        _ackTimeout = ackTimeout;
        _time = time;
        _logger = logger;
    }

    /// <summary>Batches written but not yet acknowledged (for tests and statistics).</summary>
    public int InFlight => _unacked.Count;

    /// <summary>Stream failures since the last acknowledgement (0 when healthy).</summary>
    public int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

    /// <summary>
    /// The last failure that retrying cannot fix (e.g. <c>Unauthenticated</c>: a wrong API key), as status and detail, since
    /// the server last acknowledged a batch; <see langword="null"/> when there was none.
    /// </summary>
    public string? Refusal => Volatile.Read(ref _refusal);

    /// <summary>When the server last acknowledged a batch, or <see langword="null"/> if never.</summary>
    public DateTimeOffset? LastAck
    {
        get
        {
            var ms = Volatile.Read(ref _lastAckUnixMs);
            return ms == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(ms);
        }
    }

    /// <summary>Runs until the batch channel is completed and every batch is settled, or until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var suppression = CaptureSuppression.Begin();
        try
        {
            while (!_inputCompleted || _unacked.Count > 0)
            {
                await _retry.ExecuteAsync(
                    static (state, token) => new ValueTask(state.StepAsync(token)), this, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Disposal gave up waiting; FailRemaining settles what is left.
        }
        finally
        {
            await CloseSessionAsync().ConfigureAwait(false);
        }
    }

    /// <summary>After the loop stopped: counts every unsent or unacknowledged batch as failed.</summary>
    public long FailRemaining()
    {
        long failed = 0;
        foreach (var batch in _unacked)
        {
            failed += batch.Count;
        }

        _unacked.Clear();
        while (_batches.TryRead(out var batch))
        {
            failed += batch.Count;
        }

        if (failed > 0)
        {
            _counters.AddFailed(failed);
        }

        return failed;
    }

    private async Task StepAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_session is null && _unacked.Count == 0 && !_inputCompleted)
            {
                // No stream until there is something to send: a client used only for queries never opens one.
                await WaitForBatchAsync(cancellationToken).ConfigureAwait(false);
                if (_inputCompleted)
                {
                    return;
                }
            }

            await OpenIfNeededAsync(cancellationToken).ConfigureAwait(false);
            await FillWindowAsync(cancellationToken).ConfigureAwait(false);
            if (_unacked.Count == 0)
            {
                if (!_inputCompleted)
                {
                    await WaitForBatchAsync(cancellationToken).ConfigureAwait(false);
                }

                return;
            }

            await WaitForAckOrBatchAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            var transient = TransientFaults.IsTransient(ex);
            if (transient && SplitAfterStreamFailure(ex))
            {
                // The server refused a batch for its size and said so: no outage. The pieces go on a new stream at once.
                await CloseSessionAsync().ConfigureAwait(false);
                return;
            }

            if (_session is { } failed && transient)
            {
                // Another replica may be up: the next stream (and the re-send of every unacknowledged batch) goes there.
                _sessions.ReportFailure(failed);
            }

            await CloseSessionAsync().ConfigureAwait(false);
            Interlocked.Increment(ref _consecutiveFailures);
            if (transient)
            {
                throw;
            }

            FailInFlight(ex);
        }
    }

    private async Task OpenIfNeededAsync(CancellationToken cancellationToken)
    {
        if (_session is not null)
        {
            return;
        }

        _session = _sessions.Open(cancellationToken);
        _lastProgress = _time.GetTimestamp();
        foreach (var batch in _unacked)
        {
            batch.Attempts++;
            batch.SentTimestamp = _time.GetTimestamp();
            await _session.WriteAsync(batch.Message, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task FillWindowAsync(CancellationToken cancellationToken)
    {
        while (_unacked.Count < _window && _batches.TryRead(out var next))
        {
            var pieces = FitLearnedLimits(next);
            if (_unacked.Count == 0)
            {
                _lastProgress = _time.GetTimestamp();
            }

            // Every piece is held before the first is written: a write that fails leaves the rest unacknowledged, so
            // they are re-sent on the next stream (or counted failed), never forgotten.
            _unacked.AddRange(pieces);
            foreach (var batch in pieces)
            {
                batch.Attempts++;
                batch.SentTimestamp = _time.GetTimestamp();
                await _session!.WriteAsync(batch.Message, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task WaitForBatchAsync(CancellationToken cancellationToken)
    {
        _batchWait ??= _batches.WaitToReadAsync(cancellationToken).AsTask();
        var more = await _batchWait.ConfigureAwait(false);
        _batchWait = null;
        _inputCompleted = !more;
    }

    private void FailInFlight(RpcException ex)
    {
        var count = 0;
        foreach (var batch in _unacked)
        {
            count += batch.Count;
        }

        // Told before the records are counted, so whoever sees them counted failed sees why.
        var detail = RetryPipelineFactory.Detail(ex, ex);
        Volatile.Write(ref _refusal, $"{ex.StatusCode} ({detail})");
        _unacked.Clear();
        _counters.AddFailed(count);

        // A wrong API key fails every batch the same way: the first failure of a kind is an error (with its stack), the
        // repeats until the next acknowledgement are counted and logged at Debug, not once a second for ever.
        if (Interlocked.Exchange(ref _permanentFailureLogged, (int)ex.StatusCode + 1) == (int)ex.StatusCode + 1)
        {
            ChromaClientLog.StreamFailedPermanentlyAgain(_logger, ex.StatusCode, count);
        }
        else
        {
            ChromaClientLog.StreamFailedPermanently(_logger, ex.StatusCode, detail, count, ex);
        }
    }

    private async Task CloseSessionAsync()
    {
        var session = _session;
        _session = null;
        _ackRead = null;
        if (session is not null)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }
}
