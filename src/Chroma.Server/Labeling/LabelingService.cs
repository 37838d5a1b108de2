using System.Collections.Concurrent;
using System.Globalization;
using Chroma.Protocol.V1;
using Chroma.Server.Indexing;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Services.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Validation;
using Chroma.Server.Validation.Internal;
using Grpc.Core;

namespace Chroma.Server.Labeling;

/// <summary>
/// The labeling loop as plain methods, for the gRPC <c>Labeling</c> service and for anything else
/// inside the server (the web app): record labels, set review states, promote labels to training
/// and read them back. Arguments are checked here; problems throw <see cref="RpcException"/> with
/// InvalidArgument (naming the field), NotFound (unknown set or record) or FailedPrecondition.
/// </summary>
internal sealed partial class LabelingService
{
    /// <summary>The longest reviewer name, label or promoter name.</summary>
    public const int MaxNameLength = 256;

    /// <summary>The longest note.</summary>
    public const int MaxNoteLength = 2000;

    /// <summary>The most records one call may touch.</summary>
    public const int MaxRecordsPerCall = 1000;

    // The field of every id of a request with a list of ids (SetReviewState, PromoteLabels); the list is de-duplicated, so no index.
    private static readonly Func<int, string> Ids = static _ => "ids";

    private readonly IRecordStore _records;
    private readonly IReviewStore _reviews;
    private readonly BatchIngestor _ingestor;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<long, long> _versions = new();
    private readonly ConcurrentDictionary<long, ReviewedSnapshot> _reviewed = new();

    /// <summary>Creates the service.</summary>
    public LabelingService(
        IRecordStore records,
        IReviewStore reviews,
        BatchIngestor ingestor,
        TimeProvider time)
    {
        _records = records;
        _reviews = reviews;
        _ingestor = ingestor;
        _time = time;
    }

    /// <summary>Records labels on records of <paramref name="setId"/> (each also marks its record reviewed); returns how many.</summary>
    public async Task<long> LabelAsync(string setId, IReadOnlyList<LabelInput> labels, string reviewer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var set = QueryArguments.RequireSet(_records, setId ?? string.Empty);
        RequireName(reviewer, "reviewer");
        if (labels.Count == 0 || labels.Count > MaxRecordsPerCall)
        {
            throw Invalid($"labels: must hold 1..{MaxRecordsPerCall} entries, got {labels.Count}");
        }

        for (var i = 0; i < labels.Count; i++)
        {
            RequireName(labels[i].Label, $"labels[{i}].label");
            if (ClassNameRule.Validate(labels[i].Label, $"labels[{i}].label") is { } labelError)
            {
                // A label becomes a class name when promoted.
                throw labelError.ToRpcException();
            }

            if (labels[i].Note is { } note && (note.Length > MaxNoteLength || Utf8Text.Check(note) is not null))
            {
                throw Invalid($"labels[{i}].note: must be valid text of at most {MaxNoteLength} characters");
            }
        }

        var ids = labels.Select((l, i) => QueryArguments.RecordId(l.RecordId ?? string.Empty, LabelRecordId(i))).ToArray();
        if (ids.Distinct(StringComparer.Ordinal).Count() != ids.Length)
        {
            throw Invalid(RepeatedRecord(labels));
        }

        var stored = RequireLabelable(set, ids, LabelRecordId);
        var writes = labels.Select((l, i) => new LabelWrite(stored[i].Sequence, ids[i], l.Label, string.IsNullOrEmpty(l.Note) ? null : l.Note)).ToArray();
        var changed = await _reviews.SaveLabelsAsync(set.Key, writes, reviewer, Now(), cancellationToken).ConfigureAwait(false);
        Changed(set);
        return changed;
    }

    /// <summary>Sets the review state of records of <paramref name="setId"/>; returns how many.</summary>
    public async Task<long> SetReviewStateAsync(
        string setId, IReadOnlyList<string> ids, ReviewState state, string reviewer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var set = QueryArguments.RequireSet(_records, setId ?? string.Empty);
        RequireName(reviewer, "reviewer");
        if (!Enum.IsDefined(state))
        {
            throw Invalid($"state: unknown value {(int)state}");
        }

        var normalized = QueryArguments.RecordIds(ids, MaxRecordsPerCall);
        var stored = RequireLabelable(set, normalized, Ids);
        var changed = await _reviews.SaveStateAsync(
            set.Key, [.. stored.Select((r, i) => (r.Sequence, normalized[i]))], state, reviewer, Now(), cancellationToken).ConfigureAwait(false);
        Changed(set);
        return changed;
    }

    /// <summary>
    /// Puts back the reviews records of <paramref name="set"/> had before an action (Studio's undo; see
    /// <see cref="IReviewStore.RestoreAsync"/>), audited under <paramref name="reviewer"/>.
    /// </summary>
    public async Task RestoreAsync(StoredEmbeddingSet set, IReadOnlyList<ReviewSnapshot> previous, string reviewer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(previous);
        await _reviews.RestoreAsync(set.Key, previous, reviewer, Now(), cancellationToken).ConfigureAwait(false);
        Changed(set);
    }

    /// <summary>The reviews of these records of <paramref name="set"/> (unreviewed ones are left out).</summary>
    public IReadOnlyDictionary<long, RecordReview> Reviews(StoredEmbeddingSet set, IReadOnlyList<long> sequences)
    {
        ArgumentNullException.ThrowIfNull(set);
        return _reviews.Read(set.Key, sequences);
    }

    /// <summary>
    /// The sequences of <paramref name="set"/>'s reviewed or dismissed records (rankings leave them
    /// out), with a version that changes whenever they may have; cached between writes.
    /// </summary>
    public ReviewedSnapshot Reviewed(StoredEmbeddingSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        // This server's writes, plus every server's where the store is shared (both only grow, so the sum moves with either).
        var version = _versions.GetValueOrDefault(set.Key) + _reviews.Revision(set.Key);
        if (_reviewed.TryGetValue(set.Key, out var cached) && cached.Version == version)
        {
            return cached;
        }

        var fresh = new ReviewedSnapshot(_reviews.ReadReviewedSequences(set.Key), version);
        _reviewed[set.Key] = fresh;
        return fresh;
    }

    /// <summary>One page of the labeled records of <paramref name="setId"/> with their reviews, in sequence order.</summary>
    public LabeledPage GetLabeled(string setId, long afterSequence, int pageSize, bool includeEmbeddings)
    {
        var set = QueryArguments.RequireSet(_records, setId ?? string.Empty);
        var reviews = _reviews.ReadLabeled(set.Key, afterSequence, pageSize + 1);
        var page = reviews.Take(pageSize).ToArray();
        var records = _records.GetRecordsBySequence(set, [.. page.Select(r => r.Sequence)], includeEmbeddings);
        var bySequence = page.ToDictionary(r => r.Sequence);

        // Deleted records are left out (their data is gone).
        var items = records.Select(r => new LabeledRecord(r, bySequence[r.Sequence])).ToArray();
        return new LabeledPage(items, reviews.Count > pageSize ? page[^1].Sequence : null);
    }

    /// <summary>Up to <paramref name="limit"/> audit events of <paramref name="setId"/> after <paramref name="afterEvent"/>, oldest first.</summary>
    public IReadOnlyList<ReviewEvent> GetHistory(string setId, string? recordId, long afterEvent, int limit)
    {
        var set = QueryArguments.RequireSet(_records, setId ?? string.Empty);
        string? id = null;
        if (!string.IsNullOrEmpty(recordId))
        {
            id = QueryArguments.RecordId(recordId, "record_id");
        }

        var events = _reviews.ReadHistory(set.Key, id, afterEvent, limit);

        // An id the set never held answers NotFound (as everywhere else); a record with a trail keeps it, deleted or not,
        // and a live record nobody reviewed has an empty one.
        if (id is not null && events.Count == 0 && afterEvent == 0 && _records.GetRecordsByIds(set, [id], includeEmbeddings: false).Count == 0)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"record_id: record '{id}' not found in embedding set '{set.SetId}'"));
        }

        return events;
    }

    private static RpcException Invalid(string message) => ValidationError.Invalid(message).ToRpcException();

    // The field of the i-th label's record id in LabelRecordsRequest.
    private static string LabelRecordId(int index) => string.Create(CultureInfo.InvariantCulture, $"labels[{index}].record_id");


    // Names the first repeated id and both places, as the ingest validator does for a batch.
    private static string RepeatedRecord(IReadOnlyList<LabelInput> labels)
    {
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < labels.Count; i++)
        {
            var id = RecordIdFormat.Normalize(labels[i].RecordId ?? string.Empty);
            if (!first.TryAdd(id, i))
            {
                return $"labels[{i}].record_id: {id} repeats labels[{first[id]}].record_id; a record may appear once";
            }
        }

        return "labels: a record appears more than once";
    }

    private static void RequireName(string? value, string field)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw Invalid($"{field}: is required");
        }

        if (value.Length > MaxNameLength || Utf8Text.Check(value) is { } problem)
        {
            throw Invalid($"{field}: must be valid text of at most {MaxNameLength} characters");
        }
    }

    // Every id must be a live record outside the dataset named exactly "training"; returned in request order. A problem
    // names the request's field of the id at that index (field).
    private IReadOnlyList<StoredRecord> RequireLabelable(StoredEmbeddingSet set, IReadOnlyList<string> ids, Func<int, string> field)
    {
        var stored = _records.GetRecordsByIds(set, ids, includeEmbeddings: false);
        if (stored.Count != ids.Count)
        {
            var found = stored.Select(r => r.Record.Id).ToHashSet(StringComparer.Ordinal);
            var missing = ids.Index().First(id => !found.Contains(id.Item));
            throw new RpcException(new Status(StatusCode.NotFound, $"{field(missing.Index)}: record '{missing.Item}' not found in embedding set '{set.SetId}'"));
        }

        // The same ordinal comparison the scorer uses to tell training data: "Training" or "reference" are other datasets.
        if (stored.Index().FirstOrDefault(r => r.Item.Record.Dataset == DatasetNames.Training) is { Item: { } training } at)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"{field(at.Index)}: record '{training.Record.Id}' is in dataset \"{DatasetNames.Training}\" (training data); "
                + "labels and reviews are for records of any other dataset (the name is matched exactly: \"Training\" is another dataset)"));
        }

        return stored;
    }

    private void Changed(StoredEmbeddingSet set) => _versions.AddOrUpdate(set.Key, 1, (_, v) => v + 1);

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();
}

/// <summary>One label to record.</summary>
/// <param name="RecordId">The record.</param>
/// <param name="Label">The label (1-256 characters).</param>
/// <param name="Note">Optional note (up to 2,000 characters).</param>
internal sealed record LabelInput(string RecordId, string Label, string? Note = null);

/// <summary>The reviewed or dismissed records of a set, and a version that changes with them.</summary>
/// <param name="Sequences">Their sequences.</param>
/// <param name="Version">Changes whenever a review of the set is written.</param>
internal sealed record ReviewedSnapshot(IReadOnlySet<long> Sequences, long Version);

/// <summary>A labeled record and its review.</summary>
/// <param name="Record">The record as stored.</param>
/// <param name="Review">Its label, reviewer, note, times and promotion.</param>
internal sealed record LabeledRecord(StoredRecord Record, RecordReview Review);

/// <summary>One page of labeled records.</summary>
/// <param name="Records">The records, in sequence order.</param>
/// <param name="NextAfterSequence">Where the next page starts, or null on the last page.</param>
internal sealed record LabeledPage(IReadOnlyList<LabeledRecord> Records, long? NextAfterSequence);
