using Chroma.Server.Recommendations;
using Chroma.Server.Storage;

namespace Chroma.Server.Web.Internal;

/// <summary>GET /api/map and GET /api/record.</summary>
internal sealed partial class StudioApi
{

    /// <summary>
    /// The set's map as <see cref="MapPayload"/>: every point, or those stored after <paramref name="after"/>, in
    /// <paramref name="projection"/> (<c>pca</c>, the default, or <c>umap</c>).
    /// </summary>
    public IResult Map(string? setId, long after, string? projection = null)
    {
        if (FindSet(setId) is not { } set)
        {
            return NoSuchSet(setId);
        }

        MapProjectionKind kind;
        switch (projection)
        {
            case null or "" or "pca": kind = MapProjectionKind.Pca; break;
            case "umap": kind = MapProjectionKind.Umap; break;
            default: return BadRequest($"projection: must be pca or umap (got \"{projection}\")");
        }

        var map = _maps.Read(set, kind);
        var scores = _scoring.Scores(set);
        var bySequence = new Dictionary<long, float>(scores.Entries.Count);
        foreach (var entry in scores.Entries)
        {
            bySequence[entry.Sequence] = CombinedScore(entry);
        }

        // Records whose delete waits out its undo window are already gone from the picture.
        var pending = _undo.PendingDeletes(set);
        return Results.Bytes(MapPayload.Encode(pending.Count == 0 ? map : map.Without(pending), bySequence, scores.Revision, after), MapPayload.ContentType);
    }

    /// <summary>One record: metadata, inference, input URI, signals and reasons, its nearest training neighbours.</summary>
    public async Task<IResult> RecordAsync(string? setId, long? sequence, CancellationToken cancellationToken)
    {
        if (FindSet(setId) is not { } set)
        {
            return NoSuchSet(setId);
        }

        if (sequence is not > 0)
        {
            return BadRequest("sequence: is required (a positive record sequence)");
        }

        var found = _store.GetRecordsBySequence(set, [sequence.Value], includeEmbeddings: true);
        if (found.Count == 0)
        {
            return Results.Json(new StudioError($"sequence: no live record {sequence} in '{set.SetId}'"), StudioJson.Options, statusCode: StatusCodes.Status404NotFound);
        }

        var stored = found[0];
        // As many neighbours as the reasons count ("neighbours disagree: 7 of 10 are class 2"), probe Z, Z4.
        var shown = _recommendationOptions.NeighborCount;
        var neighbors = await _indexes.SearchAsync(set, [.. stored.Record.Embedding], shown + 1, DatasetNames.Training, cancellationToken).ConfigureAwait(false);
        var others = neighbors.Where(n => n.Sequence != stored.Sequence).Take(shown).ToList();
        var neighborRecords = _store.GetRecordsBySequence(set, [.. others.Select(n => n.Sequence)], includeEmbeddings: false).ToDictionary(r => r.Sequence);
        var entry = _scoring.Scores(set).Entries.FirstOrDefault(e => e.Sequence == stored.Sequence);
        var view = ToView(stored, entry?.Record, entry is null ? null : CombinedScore(entry), others
            .Where(n => neighborRecords.ContainsKey(n.Sequence))
            .Select(n => new NeighborView(n.Sequence, neighborRecords[n.Sequence].Record.Id, Empty(neighborRecords[n.Sequence].Record.Label), Empty(neighborRecords[n.Sequence].Record.InputUri), n.Distance)
            {
                Preview = Preview(set, neighborRecords[n.Sequence]),
            })
            .ToList()) with
        {
            Preview = Preview(set, stored),
        };
        if (_labeling.Reviews(set, [stored.Sequence]).GetValueOrDefault(stored.Sequence) is { } review)
        {
            view = view with
            {
                ReviewState = ReviewStateName(review.State),
                ReviewLabel = review.Label,
                ReviewNote = review.Note,
                LabeledBy = review.LabeledBy,
                LabeledUnixMs = review.LabeledUnixMs,
                ReviewedBy = review.ReviewedBy,
                ReviewedUnixMs = review.ReviewedUnixMs,
                PromotedRecordId = review.PromotedRecordId,
            };
        }

        if (_undo.PendingDeleteUntil(set, stored.Sequence) is { } deletedAt)
        {
            view = view with { DeletedAtUnixMs = deletedAt.ToUnixTimeMilliseconds() };
        }

        return Results.Json(view, StudioJson.Options);
    }

    private static RecordView ToView(Protocol.V1.StoredRecord stored, ScoredRecord? scored, double? score, IReadOnlyList<NeighborView> neighbors)
    {
        var record = stored.Record;
        var inference = record.Inference;
        var probabilities = inference is null
            ? []
            : inference.ClassProbabilities.Select((p, i) => new ProbabilityView(i < inference.ClassNames.Count ? inference.ClassNames[i] : $"class {i}", p)).ToList();
        return new RecordView(
            stored.Sequence,
            record.Id,
            record.Dataset,
            Empty(record.Label),
            Empty(inference?.PredictedClass),
            probabilities,
            Empty(record.InputUri),
            record.TimestampUnixMs,
            record.Metadata.ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal),
            score,
            scored is null ? [] : Signals(scored.Signals),
            scored is null ? [] : ReasonWriter.Write(scored, RecommendationStrategy.Balanced),
            neighbors);
    }

    /// <summary>GET /api/input: the record's input file from <see cref="WebOptions.InputRoot"/> (an image; nothing outside that folder).</summary>
    public IResult Input(string? setId, long? sequence)
    {
        if (FindSet(setId) is not { } set)
        {
            return NoSuchSet(setId);
        }

        if (_options.InputRoot is not { } root)
        {
            return Results.Json(new StudioError("input: this server serves no input files (set Chroma:Web:InputRoot)"), StudioJson.Options, statusCode: StatusCodes.Status404NotFound);
        }

        if (sequence is not > 0 || _store.GetRecordsBySequence(set, [sequence.Value], includeEmbeddings: false) is not [var stored])
        {
            return Results.Json(new StudioError($"sequence: no live record {sequence} in '{set.SetId}'"), StudioJson.Options, statusCode: StatusCodes.Status404NotFound);
        }

        // The opened file is what is served (its length too), not the path opened again later.
        var stream = InputFiles.Open(root, stored.Record.InputUri, out var contentType, out var problem, out var missing);
        if (stream is null)
        {
            return Results.Json(new StudioError(problem!), StudioJson.Options, statusCode: missing ? StatusCodes.Status404NotFound : StatusCodes.Status403Forbidden);
        }

        return Results.File(stream, contentType);
    }

    private string? Preview(StoredEmbeddingSet set, Protocol.V1.StoredRecord stored) =>
        RecordPreviews.Find(stored.Record, set.SetId, stored.Sequence, _options.InputRoot);

    private static List<SignalView> Signals(IEnumerable<SignalScore> signals) =>
        [.. signals.Select(s => new SignalView(s.Kind.ToWireName(), Finite(s.Value), s.Percentile, s.PValue))];

    private static double Finite(double value) => double.IsFinite(value) ? value : 0;

    private static string? Empty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
