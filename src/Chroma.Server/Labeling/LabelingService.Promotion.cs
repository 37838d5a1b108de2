using Chroma.Protocol.V1;
using Chroma.Server.Services.Internal;
using Chroma.Server.Storage;
using Grpc.Core;

namespace Chroma.Server.Labeling;

/// <summary>
/// Promotion: a labeled production record is copied into the training dataset (same embedding and
/// inference, the reviewer's label, metadata <c>promoted_from</c> = the original id) through the
/// normal ingest path, so the index and the scoring worker see it like any write and the next fit
/// uses it. The production record stays where it is; its review keeps who promoted it and when.
/// </summary>
internal sealed partial class LabelingService
{
    /// <summary>The metadata key a training copy carries: the id of the record it was promoted from.</summary>
    public const string PromotedFromKey = "promoted_from";

    /// <summary>
    /// Promotes the labels of these records of <paramref name="setId"/> (empty: every labeled record
    /// whose current label is not promoted yet, up to <see cref="MaxRecordsPerCall"/>). A record whose
    /// label changed since its promotion gets a new training copy and the old one is deleted.
    /// </summary>
    public async Task<PromotionResult> PromoteAsync(string setId, IReadOnlyList<string> ids, string promotedBy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var set = QueryArguments.RequireSet(_records, setId ?? string.Empty);
        RequireName(promotedBy, "promoted_by");
        IReadOnlyList<RecordReview> targets;
        if (ids.Count == 0)
        {
            targets = PendingPromotions(set);
        }
        else
        {
            var normalized = QueryArguments.RecordIds(ids, MaxRecordsPerCall);
            var stored = RequireLabelable(set, normalized);
            var reviews = _reviews.Read(set.Key, [.. stored.Select(r => r.Sequence)]);
            var unlabeled = stored.FirstOrDefault(r => !reviews.TryGetValue(r.Sequence, out var review) || review.Label is null);
            if (unlabeled is not null)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition, $"ids: record '{unlabeled.Record.Id}' has no label to promote; label it first"));
            }

            targets = [.. stored.Select(r => reviews[r.Sequence])];
        }

        var already = targets.Count(t => t.LabelPromoted);
        var todo = targets.Where(t => !t.LabelPromoted).ToArray();
        if (todo.Length == 0)
        {
            return new PromotionResult([], already);
        }

        var originals = _records.GetRecordsBySequence(set, [.. todo.Select(t => t.Sequence)], includeEmbeddings: true).ToDictionary(r => r.Sequence);
        var copies = new List<(RecordReview Review, Record Copy)>();
        foreach (var review in todo)
        {
            // A record deleted since it was labeled has nothing left to promote.
            if (originals.TryGetValue(review.Sequence, out var original))
            {
                copies.Add((review, TrainingCopy(original.Record, review.Label!)));
            }
        }

        if (copies.Count > 0)
        {
            var batch = new LogBatch { BatchId = Guid.CreateVersion7().ToString(), Set = set.Descriptor.Clone() };
            batch.Records.AddRange(copies.Select(c => c.Copy));
            var ack = await _ingestor.IngestAsync(batch, cancellationToken).ConfigureAwait(false);
            if (ack.Error is { } error)
            {
                throw new RpcException(new Status((StatusCode)error.Code, "promotion: the training copies could not be stored: " + error.Message));
            }
        }

        var now = Now();
        var replaced = copies.Where(c => c.Review.PromotedRecordId is not null).Select(c => c.Review.PromotedRecordId!).ToArray();
        foreach (var (review, copy) in copies)
        {
            await _reviews.SavePromotionAsync(set.Key, review.Sequence, copy.Id, copy.Label, promotedBy, now, cancellationToken).ConfigureAwait(false);
        }

        if (replaced.Length > 0)
        {
            await _records.DeleteAsync(set, replaced, cancellationToken).ConfigureAwait(false);
        }

        Changed(set);
        return new PromotionResult([.. copies.Select(c => new PromotedRecord(c.Review.RecordId, c.Copy.Id))], already);
    }

    private static Record TrainingCopy(Record original, string label)
    {
        var copy = original.Clone();
        copy.Id = Guid.CreateVersion7().ToString();
        copy.Dataset = DatasetNames.Training;
        copy.Label = label;
        copy.Metadata[PromotedFromKey] = original.Id;
        return copy;
    }

    private List<RecordReview> PendingPromotions(StoredEmbeddingSet set)
    {
        var pending = new List<RecordReview>();
        var after = 0L;
        while (pending.Count < MaxRecordsPerCall)
        {
            var page = _reviews.ReadLabeled(set.Key, after, MaxRecordsPerCall);
            pending.AddRange(page.Where(r => !r.LabelPromoted).Take(MaxRecordsPerCall - pending.Count));
            if (page.Count < MaxRecordsPerCall)
            {
                break;
            }

            after = page[^1].Sequence;
        }

        return pending;
    }
}

/// <summary>A production record and its new training copy.</summary>
/// <param name="RecordId">The labeled production record.</param>
/// <param name="TrainingRecordId">The training record made from it.</param>
internal sealed record PromotedRecord(string RecordId, string TrainingRecordId);

/// <summary>What a promotion did.</summary>
/// <param name="Promoted">Records copied to training by this call.</param>
/// <param name="AlreadyPromoted">Records whose current label was already in training.</param>
internal sealed record PromotionResult(IReadOnlyList<PromotedRecord> Promoted, long AlreadyPromoted);
