using Chroma.Protocol.V1;
using Chroma.Server.Hosting;
using Chroma.Server.Indexing;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Storage;
using Chroma.Server.Validation;

namespace Chroma.Server.Services.Internal;

/// <summary>
/// Turns one <see cref="LogBatch"/> into one <see cref="LogAck"/>: validate, prepare column values
/// (outside the write lock), store in one transaction, then update the loaded indexes and
/// schedule a scoring pass.
/// </summary>
internal sealed class BatchIngestor
{
    private readonly IRecordStore _store;
    private readonly RecordsCommitted _onCommitted;
    private readonly ChromaServerOptions _limits;
    private readonly ILogger<BatchIngestor> _logger;

    /// <summary>Creates the ingestor.</summary>
    public BatchIngestor(
        IRecordStore store, EmbeddingSetIndexes indexes, ScoringScheduler scoring, ChromaServerOptions limits, ILogger<BatchIngestor> logger)
    {
        ArgumentNullException.ThrowIfNull(indexes);
        ArgumentNullException.ThrowIfNull(scoring);
        _store = store;

        // Both run after the commit, in commit order: the index first (searches see the records),
        // then the scoring worker is told (it only marks the set; the pass runs later, elsewhere).
        _onCommitted = indexes.OnRecordsStored;
        _onCommitted += scoring.OnRecordsStored;
        _limits = limits;
        _logger = logger;
    }

    /// <summary>Stores <paramref name="batch"/> durably, or rejects all of it; the ack says which.</summary>
    public async Task<LogAck> IngestAsync(LogBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var error = BatchValidator.Validate(batch, _limits);
        if (error is not null)
        {
            return Rejected(batch, error);
        }

        var prepared = new PreparedRecord[batch.Records.Count];
        for (var i = 0; i < prepared.Length; i++)
        {
            prepared[i] = PreparedRecord.From(batch.Records[i]);
        }

        var outcome = await _store.IngestAsync(batch.Set, prepared, _onCommitted, cancellationToken).ConfigureAwait(false);
        if (outcome.Error is not null)
        {
            return Rejected(batch, outcome.Error);
        }

        if (_logger.IsEnabled(LogLevel.Debug))
        {
            var setId = SetDescriptorValidator.SetId(batch.Set);
            IngestLog.BatchStored(_logger, batch.BatchId, setId, outcome.Accepted, outcome.Duplicates);
        }

        return new LogAck { BatchId = batch.BatchId, Accepted = outcome.Accepted, Duplicates = outcome.Duplicates };
    }

    private LogAck Rejected(LogBatch batch, ValidationError error)
    {
        IngestLog.BatchRejected(_logger, batch.BatchId, error.Code, error.Message);
        return new LogAck
        {
            BatchId = batch.BatchId,
            Error = new BatchError { Code = (int)error.Code, Message = error.Message, RecordIndex = error.RecordIndex },
        };
    }
}
