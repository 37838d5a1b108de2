using Chroma.Protocol.V1;
using Chroma.Server.Diagnostics.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Internal;
using Chroma.Server.Validation;

namespace Chroma.Server.Services.Internal;

/// <summary>
/// Turns one <see cref="LogBatch"/> into one <see cref="LogAck"/>: validate, prepare column values
/// (outside the write lock), store in one transaction (the store then tells its
/// <see cref="IRecordChangeObserver"/>s: the indexes, then scoring). When the commit queue is full the
/// batch is shed with <c>ResourceExhausted</c> before any of that work.
/// </summary>
internal sealed class BatchIngestor
{
    private readonly IRecordStore _store;
    private readonly LimitsOptions _limits;
    private readonly IngestOptions _ingest;
    private readonly ILogger<BatchIngestor> _logger;
    private readonly IngestAdmission _admission;
    private readonly long _retryAfterMs;
    private readonly TimeProvider _time;

    /// <summary>Creates the ingestor.</summary>
    public BatchIngestor(IRecordStore store, LimitsOptions limits, IngestOptions ingest, ILogger<BatchIngestor> logger, TimeProvider? timeProvider = null)
    {
        OutageLog = new StorageOutageLog(logger, "ingest", timeProvider);
        _time = timeProvider ?? TimeProvider.System;
        _store = store;
        _limits = limits;
        _ingest = ingest;
        _logger = logger;
        _admission = new IngestAdmission(ingest.MaxPendingRecords);
        _retryAfterMs = (long)Math.Ceiling(ingest.RetryAfter.TotalMilliseconds);
    }

    /// <summary>Gets the gate bounding the commit queue (its counters are read by tests and the server's metrics).</summary>
    public IngestAdmission Admission => _admission;

    /// <summary>Gets the log of database outages seen by ingest (the ingest service reports refused batches to it).</summary>
    public StorageOutageLog OutageLog { get; }

    /// <summary>Gets the records of the batches answered, by outcome.</summary>
    public IngestCounters Counters { get; } = new();

    /// <summary>Gets the limits a client's batch is checked against.</summary>
    public LimitsOptions Limits => _limits;

    /// <summary>Stores <paramref name="batch"/> durably, or rejects all of it; the ack says which.</summary>
    public Task<LogAck> IngestAsync(LogBatch batch, CancellationToken cancellationToken = default) =>
        IngestAsync(batch, _limits, cancellationToken);

    /// <summary>
    /// Stores a batch the server made itself (training copies of promoted labels) under <paramref name="limits"/>
    /// instead of the ones a client's batch meets.
    /// </summary>
    public async Task<LogAck> IngestAsync(LogBatch batch, LimitsOptions limits, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(limits);
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        var ack = await AnswerAsync(batch, limits, cancellationToken).ConfigureAwait(false);
        Counters.Answered(start, stored: ack.Error is null);
        return ack;
    }

    private async Task<LogAck> AnswerAsync(LogBatch batch, LimitsOptions limits, CancellationToken cancellationToken)
    {
        if (batch.DecodeError is { } decodeError)
        {
            return Rejected(batch, ValidationError.Invalid(decodeError, RecordIndexOf(decodeError)));
        }

        // Shed before validating: under overload the cheapest answer is the best one.
        var count = batch.Records.Count;
        if (!_admission.TryAdmit(count))
        {
            return Shed(batch);
        }

        try
        {
            return await ValidateAndStoreAsync(batch, limits, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // A caller that stops waiting (stream cancelled) releases the room before its queued
            // batch commits: a brief overshoot of the bound, never a leak of it.
            _admission.Release(count);
        }
    }

    private async Task<LogAck> ValidateAndStoreAsync(LogBatch batch, LimitsOptions limits, CancellationToken cancellationToken)
    {
        var error = BatchValidator.Validate(batch, limits, new BatchStoreCheck(_store, batch.Set));
        if (error is not null)
        {
            return Rejected(batch, error);
        }

        var prepared = new PreparedRecord[batch.Records.Count];
        var received = _time.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 0; i < prepared.Length; i++)
        {
            var record = batch.Records[i];
            prepared[i] = PreparedRecord.From(record, RecordIdFormat.Normalize(record.Id), received);
        }

        var setId = SetDescriptorValidator.SetId(batch.Set);
        IngestOutcome outcome;
        try
        {
            outcome = await _store.IngestAsync(setId, batch.Set, prepared, cancellationToken).ConfigureAwait(false);
        }
        catch (StorageFullException ex)
        {
            return StorageFull(batch, ex);
        }

        if (outcome.Error is { } rejection)
        {
            return Rejected(batch, StoreOutcomeStatus.ToValidationError(rejection));
        }

        if (_logger.IsEnabled(LogLevel.Debug))
        {
            IngestLog.BatchStored(_logger, new ClientText(batch.BatchId), setId, outcome.Accepted, outcome.Duplicates);
        }

        OutageLog.Succeeded();
        Counters.AddStored(outcome.Accepted, outcome.Duplicates);
        return new LogAck { BatchId = batch.BatchId, Accepted = outcome.Accepted, Duplicates = outcome.Duplicates };
    }

    // "records[3].label: ..." names record 3; anything else is about the batch itself.
    private static int RecordIndexOf(string problem)
    {
        const string Prefix = "records[";
        if (!problem.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return -1;
        }

        var end = problem.IndexOf(']', StringComparison.Ordinal);
        return int.TryParse(problem.AsSpan(Prefix.Length, end - Prefix.Length), System.Globalization.CultureInfo.InvariantCulture, out var index) ? index : -1;
    }

    private LogAck Shed(LogBatch batch)
    {
        Counters.AddShed(batch.Records.Count);
        IngestLog.BatchShed(_logger, new ClientText(batch.BatchId), batch.Records.Count, _admission.PendingRecords);
        return new LogAck
        {
            BatchId = batch.BatchId,
            Error = new BatchError
            {
                Code = (int)Grpc.Core.StatusCode.ResourceExhausted,
                Message = $"records: the server's ingest queue is full ({_ingest.MaxPendingRecords} records); re-send after retry_after_ms",
                RetryAfterMs = _retryAfterMs,
                RecordIndex = -1,
            },
        };
    }

    // Not the end of the stream: the client waits and re-sends, and ingest resumes by itself once there is room.
    private LogAck StorageFull(LogBatch batch, StorageFullException exception)
    {
        Counters.AddStorageFull(batch.Records.Count);
        IngestLog.StorageFull(_logger, batch.BatchId, exception);
        return new LogAck
        {
            BatchId = batch.BatchId,
            Error = new BatchError
            {
                Code = (int)Grpc.Core.StatusCode.ResourceExhausted,
                Message = exception.Unwritable
                    ? "records: the server cannot write to its data directory (read-only or failing file system), nothing of this batch was stored; re-send after retry_after_ms"
                    : "records: the server's disk is full, nothing of this batch was stored; re-send after retry_after_ms",
                RetryAfterMs = (long)StorageSpace.ProbeInterval.TotalMilliseconds,
                RecordIndex = -1,
            },
        };
    }

    private LogAck Rejected(LogBatch batch, ValidationError error)
    {
        Counters.AddRejected(batch.Records.Count);
        IngestLog.BatchRejected(_logger, new ClientText(batch.BatchId), error.Code, new ClientText(error.Message));
        var answer = new BatchError { Code = (int)error.Code, Message = error.Message, RecordIndex = error.RecordIndex, MaxBatchRecords = error.MaxBatchRecords };
        foreach (var record in error.RecordErrors)
        {
            answer.Records.Add(new RecordError { RecordIndex = record.RecordIndex, Message = record.Message });
        }

        return new LogAck { BatchId = batch.BatchId, Error = answer };
    }
}
