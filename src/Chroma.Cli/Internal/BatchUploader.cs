using Chroma.Protocol.V1;

namespace Chroma.Server.Cli.Internal;

/// <summary>What an import did: records stored, records the server already had, and the first rejection.</summary>
internal readonly record struct ImportOutcome(long Accepted, long Duplicates, string? Error);

/// <summary>Sends records over one <c>Ingest.Log</c> stream, a batch at a time, waiting for each acknowledgement.</summary>
internal sealed class BatchUploader
{
    private readonly Ingest.IngestClient _client;
    private readonly CliContext _context;

    /// <summary>Creates an uploader.</summary>
    public BatchUploader(Ingest.IngestClient client, CliContext context)
    {
        _client = client;
        _context = context;
    }

    /// <summary>Uploads <paramref name="records"/>; stops at the first batch the server rejects.</summary>
    public async Task<ImportOutcome> UploadAsync(
        EmbeddingSetDescriptor set,
        IReadOnlyList<Record> records,
        int batchSize,
        Action<int> onBatch,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(onBatch);
        using var call = _client.Log(deadline: _context.Deadline().AddMinutes(10), cancellationToken: cancellationToken);
        long accepted = 0;
        long duplicates = 0;
        string? error = null;
        for (var start = 0; start < records.Count && error is null; start += batchSize)
        {
            var batch = new LogBatch { BatchId = Guid.CreateVersion7().ToString(), Set = set };
            batch.Records.AddRange(records.Skip(start).Take(batchSize));
            await call.RequestStream.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
            if (!await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                error = "the server closed the stream without acknowledging a batch";
                break;
            }

            var ack = call.ResponseStream.Current;
            if (ack.Error is { } rejected)
            {
                error = rejected.RecordIndex >= 0
                    ? $"{rejected.Message} (record {start + rejected.RecordIndex + 1} of the file)"
                    : $"{rejected.Message} (the batch starting at record {start + 1} of the file)";
            }

            accepted += ack.Accepted;
            duplicates += ack.Duplicates;
            onBatch(batch.Records.Count);
        }

        await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        return new ImportOutcome(accepted, duplicates, error);
    }
}
