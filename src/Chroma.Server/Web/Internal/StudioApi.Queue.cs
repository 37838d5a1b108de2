using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Serving;
using Chroma.Server.Storage;
using Microsoft.Extensions.Primitives;

namespace Chroma.Server.Web.Internal;

/// <summary>GET /api/queue: the review queue, a page of the ranking with reasons and per-signal scores.</summary>
internal sealed partial class StudioApi
{
    private const int MaxQueuePage = 200;
    private const int DefaultQueuePage = 50;
    private const int MaxQueueOffset = 1_000_000;

    /// <summary>
    /// One page of the ranking. Query: <c>set</c>, <c>strategy</c> (balanced, ood, uncertainty, labeling),
    /// <c>diversity</c> (off, default, strong), <c>dataset</c> (default production), <c>tag</c> (<c>key=value</c>,
    /// repeatable), <c>reviewed</c> (<c>include</c> to keep reviewed and dismissed records), <c>offset</c>, <c>take</c>.
    /// </summary>
    public IResult Queue(IQueryCollection query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var setId = query["set"].ToString();
        if (FindSet(setId) is not { } set)
        {
            return NoSuchSet(setId);
        }

        RecommendationStrategy strategy;
        switch (query["strategy"].ToString())
        {
            case "" or "balanced": strategy = RecommendationStrategy.Balanced; break;
            case "ood": strategy = RecommendationStrategy.OutOfDistribution; break;
            case "uncertainty": strategy = RecommendationStrategy.Uncertainty; break;
            case "labeling": strategy = RecommendationStrategy.Labeling; break;
            default: return BadRequest($"strategy: must be balanced, ood, uncertainty or labeling (got \"{query["strategy"]}\")");
        }

        var dataset = query["dataset"] is { Count: > 0 } d && d.ToString().Length > 0 ? d.ToString() : DatasetNames.Production;
        if (dataset == DatasetNames.Training)
        {
            return BadRequest("dataset: training records are the reference and are not scored; pick production or another dataset");
        }


        if (Tags(query["tag"]) is not { } metadata)
        {
            return BadRequest("tag: each must be key=value");
        }

        if (PageNumber(query["offset"], 0, 0) is not { } offset)
        {
            return BadRequest($"offset: must be a whole number of entries to skip, 0 or more (got \"{query["offset"]}\")");
        }

        if (PageNumber(query["take"], DefaultQueuePage, 1) is not { } requested)
        {
            return BadRequest($"take: must be a whole number of entries from 1 to {MaxQueuePage} (got \"{query["take"]}\")");
        }

        // More than a page holds is served as a full page (has_more says the rest is there).
        var take = Math.Min(requested, MaxQueuePage);
        offset = Math.Min(offset, MaxQueueOffset);
        var scores = _scoring.Scores(set);
        if (_scoring.TrainingProblem(set, scores) is { } problem)
        {
            return Results.Json(new QueueView(scores.ComputedUnixMs, 0, 0, false, problem, []) { Offset = offset, Stale = scores.Stale, Failure = FailureView.Of(_scoring.LastFailure(set)) }, StudioJson.Options);
        }

        Diversity diversity;
        switch (query["diversity"].ToString())
        {
            case "" or "default": diversity = Diversity.Default; break;
            case "off": diversity = Diversity.Off; break;
            case "strong": diversity = Diversity.Strong; break;
            default: return BadRequest($"diversity: must be off, default or strong (got \"{query["diversity"]}\")");
        }

        // Reviewed and dismissed records leave the queue unless asked for (reviewed=include).
        var includeReviewed = query["reviewed"].ToString() == "include";
        var reviewed = _labeling.Reviewed(set);
        var page = _recommendations.GetPage(set, scores, new RecommendationPageRequest(strategy, dataset, metadata, AllScores: false, offset, take, diversity)
        {
            Excluded = includeReviewed ? null : reviewed,
        });
        // An empty page for a dataset the set does not have (a typo) names it and those the set has (looked up only then).
        if (page.Total == 0 && _store.ListSets().FirstOrDefault(s => s.Set.Key == set.Key) is { } summary
            && summary.DatasetCounts.All(c => c.Key != dataset)
            && summary.DatasetCounts.Where(c => c.Key != DatasetNames.Training).Select(c => c.Key).ToList() is { Count: > 0 } scored)
        {
            return BadRequest($"dataset: set '{set.SetId}' has no dataset '{dataset}' (it has {string.Join(", ", scored)})");
        }

        var reviews = _labeling.Reviews(set, [.. page.Items.Select(i => i.Sequence)]);
        var records = _store.GetRecordsBySequence(set, [.. page.Items.Select(i => i.Sequence)], includeEmbeddings: false).ToDictionary(r => r.Sequence);
        var pendingDeletes = _undo.PendingDeletes(set);
        var items = new List<QueueItemView>(page.Items.Count);
        foreach (var (sequence, item) in page.Items)
        {
            // A record deleted since the last pass (or whose delete waits out its undo window) is left out.
            if (records.TryGetValue(sequence, out var stored) && !pendingDeletes.Contains(sequence))
            {
                var r = stored.Record;
                var review = reviews.GetValueOrDefault(sequence);
                items.Add(new QueueItemView(
                    sequence, r.Id, r.Dataset, Empty(r.Inference?.PredictedClass), Empty(r.Label) ?? review?.Label, Empty(r.InputUri),
                    // An image in the metadata is sent once, as the preview, not again as text.
                    r.Metadata.Where(m => !RecordPreviews.IsImage(m.Key, m.Value)).ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal),
                    item.Score, Signals(item.Signals), item.Reasons, item.DuplicateIds)
                {
                    Preview = Preview(set, stored),
                    ScoreRank = item.ScoreRank,
                    DuplicateCount = item.DuplicateCount,
                    ReviewState = ReviewStateName(review?.State),
                });
            }
        }

        return Results.Json(
            new QueueView(scores.ComputedUnixMs, page.Scored, page.Total, page.HasMore, null, items) { Offset = offset, Reviewed = reviewed.Sequences.Count, Stale = scores.Stale, Failure = FailureView.Of(_scoring.LastFailure(set)) },
            StudioJson.Options);
    }

    // A paging number: the default when absent, null when not a whole number at least `minimum`.
    private static int? PageNumber(StringValues value, int absent, int minimum)
    {
        if (value.Count == 0 || value.ToString().Length == 0)
        {
            return absent;
        }

        return long.TryParse(value.ToString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= minimum
            ? (int)Math.Min(n, int.MaxValue)
            : null;
    }

    private static string ReviewStateName(Labeling.ReviewState? state) => state switch
    {
        Labeling.ReviewState.Reviewed => "reviewed",
        Labeling.ReviewState.Dismissed => "dismissed",
        _ => "unreviewed",
    };

    private static Dictionary<string, string>? Tags(StringValues values)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            var split = value?.IndexOf('=', StringComparison.Ordinal) ?? -1;
            if (split <= 0)
            {
                return null;
            }

            tags[value![..split]] = value[(split + 1)..];
        }

        return tags;
    }
}
