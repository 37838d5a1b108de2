using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Chroma.Protocol.V1;
using Chroma.Server.Services.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Validation;
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
    /// Promotes the labels of these records of <paramref name="setId"/> (empty: every labeled record whose current label
    /// is not promoted yet, however many, <see cref="MaxRecordsPerCall"/> at a time). A record whose label changed since
    /// its promotion gets a new training copy and the old one is deleted.
    /// </summary>
    /// <remarks>
    /// A training copy's id is derived from the set, the record, its label and the time it was labeled
    /// (<see cref="TrainingCopyId"/>), so a promotion that stopped half way (a crash, a lost connection) and is sent
    /// again stores each copy once: the copies the first try stored are acknowledged as duplicates, and only the reviews
    /// it did not mark are marked. The old copies of relabeled records are deleted before the reviews point at the new
    /// ones, so a retry finds them to delete again rather than leaving them in training.
    /// </remarks>
    public async Task<PromotionResult> PromoteAsync(string setId, IReadOnlyList<string> ids, string promotedBy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var set = QueryArguments.RequireSet(_records, setId ?? string.Empty);
        RequireName(promotedBy, "promoted_by");
        IReadOnlyList<RecordReview> targets;
        if (ids.Count == 0)
        {
            targets = Labeled(set);
        }
        else
        {
            var normalized = QueryArguments.RecordIds(ids, MaxRecordsPerCall);
            var stored = RequireLabelable(set, normalized, Ids);
            var reviews = _reviews.Read(set.Key, [.. stored.Select(r => r.Sequence)]);
            var unlabeled = stored.FirstOrDefault(r => !reviews.TryGetValue(r.Sequence, out var review) || review.Label is null);
            if (unlabeled is not null)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition, $"ids: record '{unlabeled.Record.Id}' has no label to promote; label it first"));
            }

            targets = [.. stored.Select(r => reviews[r.Sequence])];
        }

        // A review that says its label is promoted, but whose copy is gone (deleted, or deleted by a promotion that raced a
        // relabel back to that label), is promoted again: "already promoted" means the label is in training.
        var gone = CopiesGone(set, targets);
        long already = targets.Count(t => t.LabelPromoted && !gone.Contains(t.Sequence));
        var todo = targets.Where(t => !t.LabelPromoted || gone.Contains(t.Sequence)).ToArray();
        var promoted = new List<PromotedRecord>(todo.Length);
        foreach (var chunk in todo.Chunk(MaxRecordsPerCall))
        {
            var (marked, markedElsewhere) = await PromoteChunkAsync(set, chunk, promotedBy, cancellationToken).ConfigureAwait(false);
            promoted.AddRange(marked);
            already += markedElsewhere;
        }

        if (promoted.Count > 0)
        {
            Changed(set);
        }

        return new PromotionResult(promoted, already);
    }

    /// <summary>
    /// The id of the training copy of record <paramref name="recordId"/> of <paramref name="setId"/> under
    /// <paramref name="label"/>, labeled at <paramref name="labeledUnixMs"/>: a UUID (version 8, RFC 9562's custom
    /// version) from the first 16 bytes of a SHA-256 over the four. The same label given again later (after another in
    /// between) gets another id, so a copy deleted by a relabel (its id then stays deleted) is never needed again; a copy
    /// promoted again because its copy is gone, under the same label and time, takes the gone copy's id as
    /// <paramref name="replacing"/>.
    /// </summary>
    internal static string TrainingCopyId(string setId, string recordId, string label, long labeledUnixMs, string? replacing = null)
    {
        // A copy that replaces a deleted one of the same label and time (its id stays deleted) takes that id into its own.
        var text = string.Create(CultureInfo.InvariantCulture, $"chroma training copy\n{setId}\n{recordId}\n{labeledUnixMs}\n{label}")
            + (replacing is null ? string.Empty : "\nreplacing " + replacing);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true).ToString();
    }

    // Stores the chunk's training copies and marks their reviews; returns the records this call marked and how many a
    // promotion running at the same time marked first.
    private async Task<(IReadOnlyList<PromotedRecord> Marked, int MarkedElsewhere)> PromoteChunkAsync(
        StoredEmbeddingSet set, IReadOnlyList<RecordReview> todo, string promotedBy, CancellationToken cancellationToken)
    {
        var originals = _records.GetRecordsBySequence(set, [.. todo.Select(t => t.Sequence)], includeEmbeddings: true).ToDictionary(r => r.Sequence);
        var copies = new List<(RecordReview Review, Record Copy)>();
        foreach (var review in todo)
        {
            // A record deleted since it was labeled has nothing left to promote.
            if (originals.TryGetValue(review.Sequence, out var original))
            {
                copies.Add((review, TrainingCopy(set, original.Record, review)));
            }
        }

        if (copies.Count == 0)
        {
            return ([], 0);
        }

        var batch = new LogBatch { BatchId = Guid.CreateVersion7().ToString(), Set = set.Descriptor.Clone() };
        batch.Records.AddRange(copies.Select(c => c.Copy));
        var ack = await _ingestor.IngestAsync(batch, PromotionLimits(), cancellationToken).ConfigureAwait(false);
        if (ack.Error is { } error)
        {
            var record = error.RecordIndex >= 0 && error.RecordIndex < copies.Count ? $" of record '{copies[error.RecordIndex].Review.RecordId}'" : string.Empty;
            throw new RpcException(new Status((StatusCode)error.Code, $"promotion: the training copy{record} could not be stored: {error.Message}"));
        }

        // Old copies of relabeled records go before the reviews name the new ones: a promotion cut short in between is
        // sent again, finds the label not promoted, and deletes them then.
        var replaced = copies
            .Where(c => c.Review.PromotedRecordId is { } old && !string.Equals(old, c.Copy.Id, StringComparison.Ordinal))
            .Select(c => c.Review.PromotedRecordId!)
            .ToArray();
        if (replaced.Length > 0)
        {
            await _records.DeleteAsync(set, replaced, cancellationToken).ConfigureAwait(false);
        }

        var marked = await _reviews.SavePromotionsAsync(
            set.Key, [.. copies.Select(c => new PromotionWrite(c.Review.Sequence, c.Copy.Id, c.Copy.Label, c.Review.PromotedRecordId))], promotedBy, Now(), cancellationToken).ConfigureAwait(false);
        var elsewhere = await DeleteUnmarkedCopiesAsync(set, [.. copies.Where(c => !marked.Contains(c.Review.Sequence))], cancellationToken).ConfigureAwait(false);
        return ([.. copies.Where(c => marked.Contains(c.Review.Sequence)).Select(c => new PromotedRecord(c.Review.RecordId, c.Copy.Id))], elsewhere);
    }

    // The copies whose reviews this call did not mark: a promotion running at the same time marked the review first
    // (with the same copy, which stays), or the record was relabeled since it was read (its copy carries a label that is
    // no longer the record's, and is deleted). Returns how many the other promotion marked.
    private async Task<int> DeleteUnmarkedCopiesAsync(StoredEmbeddingSet set, IReadOnlyList<(RecordReview Review, Record Copy)> unmarked, CancellationToken cancellationToken)
    {
        if (unmarked.Count == 0)
        {
            return 0;
        }

        var now = _reviews.Read(set.Key, [.. unmarked.Select(c => c.Review.Sequence)]);
        bool Kept((RecordReview Review, Record Copy) c) =>
            now.TryGetValue(c.Review.Sequence, out var review) && string.Equals(review.PromotedRecordId, c.Copy.Id, StringComparison.Ordinal);
        var stale = unmarked.Where(c => !Kept(c)).Select(c => c.Copy.Id).ToArray();
        if (stale.Length > 0)
        {
            await _records.DeleteAsync(set, stale, cancellationToken).ConfigureAwait(false);
        }

        return unmarked.Count - stale.Length;
    }

    // A copy is a record these limits took in, plus the promoted_from entry, with a reviewer's label (up to
    // MaxNameLength characters, which a lower configured value limit must not refuse now that the label is given). The
    // label is held to ClassNameRule as any training label is.
    private LimitsOptions PromotionLimits()
    {
        var limits = _ingestor.Limits.Clone();
        limits.MaxMetadataEntries += 1;
        limits.MaxMetadataKeyLength = Math.Max(limits.MaxMetadataKeyLength, PromotedFromKey.Length);
        limits.MaxMetadataValueLength = Math.Max(limits.MaxMetadataValueLength, MaxNameLength);
        limits.MaxBatchRecords = Math.Max(limits.MaxBatchRecords, MaxRecordsPerCall);
        return limits;
    }

    private static Record TrainingCopy(StoredEmbeddingSet set, Record original, RecordReview review)
    {
        var copy = original.Clone();
        copy.Id = TrainingCopyId(set.SetId, original.Id, review.Label!, review.LabeledUnixMs);
        if (string.Equals(copy.Id, review.PromotedRecordId, StringComparison.Ordinal))
        {
            // Promoted again because this copy is gone (CopiesGone): its id stays deleted, so the new copy needs another.
            copy.Id = TrainingCopyId(set.SetId, original.Id, review.Label!, review.LabeledUnixMs, review.PromotedRecordId);
        }

        copy.Dataset = DatasetNames.Training;
        copy.Label = review.Label!;
        copy.Metadata[PromotedFromKey] = original.Id;
        return copy;
    }

    // The sequences of the reviews among targets that say their label is promoted but whose training copy is no longer
    // stored.
    private HashSet<long> CopiesGone(StoredEmbeddingSet set, IReadOnlyList<RecordReview> targets)
    {
        var gone = new HashSet<long>();
        foreach (var chunk in targets.Where(t => t.LabelPromoted).Chunk(MaxRecordsPerCall))
        {
            var live = _records.GetRecordsByIds(set, [.. chunk.Select(t => t.PromotedRecordId!)], includeEmbeddings: false)
                .Select(r => r.Record.Id)
                .ToHashSet(StringComparer.Ordinal);
            gone.UnionWith(chunk.Where(t => !live.Contains(t.PromotedRecordId!)).Select(t => t.Sequence));
        }

        return gone;
    }

    // Every labeled record's review, in sequence order.
    private List<RecordReview> Labeled(StoredEmbeddingSet set)
    {
        var labeled = new List<RecordReview>();
        var after = 0L;
        while (true)
        {
            var page = _reviews.ReadLabeled(set.Key, after, MaxRecordsPerCall);
            labeled.AddRange(page);
            if (page.Count < MaxRecordsPerCall)
            {
                return labeled;
            }

            after = page[^1].Sequence;
        }
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
