using Chroma.Diagnostics;
using Chroma.Internal;
using Chroma.Protocol.V1;
using Grpc.Core;

namespace Chroma;

public sealed partial class ChromaClient
{
    /// <summary>
    /// Imports records into a set over one ingest stream, a batch at a time, waiting for each acknowledgement, and stops at
    /// the first batch the server rejects (nothing of a rejected batch is stored). Unlike the <c>Log*</c> methods of
    /// <see cref="EmbeddingSet"/> (queued, sent in the background, never throwing), this waits for the server, keeps each
    /// record's id and timestamp, and says what the server stored: importing the same records again stores nothing new.
    /// </summary>
    /// <param name="set">The set to import into (created by the first batch when new).</param>
    /// <param name="records">The records, in the order they are sent.</param>
    /// <param name="batchSize">Records per batch, 1-10,000. The default value is 500.</param>
    /// <param name="progress">Told how many records each acknowledged batch held, or <see langword="null"/> (the default).</param>
    /// <param name="cancellationToken">Cancels the import; batches already acknowledged stay stored.</param>
    /// <returns>How many records were stored, already held, and the rejection that stopped the import, if any.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is outside 1-10,000.</exception>
    /// <exception cref="ChromaException">The stream failed (the server could not be reached, refused the API key, ...).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<ImportResult> ImportAsync(
        EmbeddingSetDescriptor set,
        IEnumerable<ImportRecord> records,
        int batchSize = 500,
        IProgress<int>? progress = null,
        CancellationToken cancellationToken = default) =>
        ImportAsync(set, records, new ImportOptions { BatchSize = batchSize, Progress = progress }, cancellationToken);

    /// <summary>
    /// Imports records into a set as <see cref="ImportAsync(EmbeddingSetDescriptor, IEnumerable{ImportRecord}, int, IProgress{int}, CancellationToken)"/>
    /// does, with <paramref name="options"/>: with <see cref="ImportOptions.SkipInvalidRecords"/>, a batch the server
    /// rejects for invalid records is sent again without them (the same batch id, so a retry stays idempotent), the
    /// skipped records are listed in <see cref="ImportResult.Skipped"/>, and the import goes on.
    /// </summary>
    /// <param name="set">The set to import into (created by the first batch when new).</param>
    /// <param name="records">The records, in the order they are sent.</param>
    /// <param name="options">Batch size, progress, and whether invalid records are skipped.</param>
    /// <param name="cancellationToken">Cancels the import; batches already acknowledged stay stored.</param>
    /// <returns>How many records were stored, already held, skipped, and the rejection that stopped the import, if any.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="ImportOptions.BatchSize"/> is outside 1-10,000.</exception>
    /// <exception cref="ChromaException">The stream failed (the server could not be reached, refused the API key, ...).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<ImportResult> ImportAsync(
        EmbeddingSetDescriptor set,
        IEnumerable<ImportRecord> records,
        ImportOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(options);
        var batchSize = options.BatchSize;
        var progress = options.Progress;
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1, nameof(ImportOptions.BatchSize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batchSize, 10_000, nameof(ImportOptions.BatchSize));
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var suppression = CaptureSuppression.Begin();
        using var activity = ChromaActivitySource.StartQuery("Import", Endpoint, set.Id);
        var descriptor = ToDescriptor(set);
        long accepted = 0, duplicates = 0, sent = 0;
        var skipped = new List<ImportSkippedRecord>();
        try
        {
            using var call = new Ingest.IngestClient(_callInvoker).Log(new CallOptions(_headers, cancellationToken: cancellationToken));
            foreach (var chunk in records.Chunk(batchSize))
            {
                var batch = new LogBatch { BatchId = RecordIds.NewBatchId(), Set = descriptor };
                batch.Records.AddRange(chunk.Select(ToRecord));
                var first = sent;
                sent += chunk.Length;

                // Positions in the chunk of the records in the batch sent (all, then those left after skipping).
                var positions = Enumerable.Range(0, chunk.Length).ToList();
                var cut = false;
                while (true)
                {
                    var ack = await SendAsync(call, batch, cancellationToken).ConfigureAwait(false);
                    accepted += ack.Accepted;
                    duplicates += ack.Duplicates;
                    if (ack.Error is not { } rejected)
                    {
                        break;
                    }

                    if (!options.SkipInvalidRecords || rejected.Records.Count == 0 || cut)
                    {
                        // Not about records, not asked to skip them, or rejected again after the skip: the import stops.
                        var isRecord = rejected.RecordIndex >= 0 && rejected.RecordIndex < positions.Count;
                        return new ImportResult
                        {
                            Accepted = accepted,
                            Duplicates = duplicates,
                            Sent = sent,
                            Error = rejected.Message,
                            ErrorRecordIndex = first + (isRecord ? positions[rejected.RecordIndex] : 0),
                            ErrorIsRecord = isRecord,
                            Skipped = skipped,
                        };
                    }

                    (batch, positions) = WithoutRejected(batch, positions, rejected, first, skipped);
                    cut = true;
                    if (batch.Records.Count == 0)
                    {
                        break;
                    }
                }

                progress?.Report(chunk.Length);
            }

            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            return new ImportResult { Accepted = accepted, Duplicates = duplicates, Sent = sent, Skipped = skipped };
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("Import was cancelled.", ex, cancellationToken);
        }
        catch (RpcException ex)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.StatusCode.ToString());
            throw ChromaException.From(ex, Endpoint);
        }
    }

    private async Task<LogAck> SendAsync(AsyncDuplexStreamingCall<LogBatch, LogAck> call, LogBatch batch, CancellationToken cancellationToken)
    {
        await call.RequestStream.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
        if (!await MoveNextWithinAsync(call.ResponseStream, cancellationToken).ConfigureAwait(false))
        {
            throw new ChromaException(StatusCode.Unavailable, "The server closed the ingest stream without acknowledging a batch.");
        }

        return call.ResponseStream.Current;
    }

    // The batch less the records the server listed as invalid (same batch id: nothing of the rejected batch was stored),
    // with their positions in the chunk; each listed record is added to `skipped`.
    private static (LogBatch Batch, List<int> Positions) WithoutRejected(
        LogBatch batch, List<int> positions, BatchError rejected, long first, List<ImportSkippedRecord> skipped)
    {
        var bad = new HashSet<int>();
        foreach (var record in rejected.Records)
        {
            if (record.RecordIndex >= 0 && record.RecordIndex < batch.Records.Count && bad.Add(record.RecordIndex))
            {
                skipped.Add(new ImportSkippedRecord { Index = first + positions[record.RecordIndex], Id = batch.Records[record.RecordIndex].Id, Message = record.Message });
            }
        }

        var rest = new LogBatch { BatchId = batch.BatchId, Set = batch.Set };
        var kept = new List<int>();
        for (var i = 0; i < batch.Records.Count; i++)
        {
            if (!bad.Contains(i))
            {
                rest.Records.Add(batch.Records[i]);
                kept.Add(positions[i]);
            }
        }

        return (rest, kept);
    }

    // An acknowledgement is due within RequestTimeout of its batch (the server commits before it answers).
    private async Task<bool> MoveNextWithinAsync(IAsyncStreamReader<LogAck> acks, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        try
        {
            return await acks.MoveNext(timeout.Token).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ChromaException(StatusCode.DeadlineExceeded, $"The server did not acknowledge a batch within {_options.RequestTimeout}.", ex);
        }
    }

    private static Protocol.V1.EmbeddingSetDescriptor ToDescriptor(EmbeddingSetDescriptor set) => new()
    {
        Model = set.Model,
        ModelVersion = set.ModelVersion,
        Layer = set.Layer,
        Dimension = set.Dimension,
        Metric = (Protocol.V1.DistanceMetric)(int)set.Metric,
    };

    private static Record ToRecord(ImportRecord source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var timestamp = (source.Timestamp ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds();
        var record = new Record
        {
            Id = string.IsNullOrEmpty(source.Id) ? RecordIds.NewId(timestamp) : source.Id,
            Dataset = source.Dataset ?? ChromaDatasets.Production,
            InputUri = source.InputUri ?? string.Empty,
            Label = source.Label ?? string.Empty,
            TimestampUnixMs = timestamp,
        };
        RepeatedFields.Append(record.Embedding, source.Embedding.Span);
        if (source.PredictedClass is not null || !source.ClassProbabilities.IsEmpty || source.ClassNames is { Count: > 0 })
        {
            record.Inference = new Inference { PredictedClass = source.PredictedClass ?? string.Empty };
            RepeatedFields.Append(record.Inference.ClassProbabilities, source.ClassProbabilities.Span);
            if (source.ClassNames is { Count: > 0 } names)
            {
                record.Inference.ClassNames.Add(names);
            }
        }

        if (source.Metadata is not null)
        {
            foreach (var (key, value) in source.Metadata)
            {
                record.Metadata[key] = value;
            }
        }

        return record;
    }
}
