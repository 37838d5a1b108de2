using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Storage;

namespace Chroma.Server.Recommendations.Serving;

/// <summary>Computing the rankings in use again when a set's scores are published (see the class remarks).</summary>
internal sealed partial class RecommendationPages
{
    /// <summary>
    /// Computes again, at <paramref name="scores"/>' revision, every cached ranking of <paramref name="set"/> that was
    /// asked for at its own revision; returns how many. A ranking a request replaced meanwhile is left as it is.
    /// </summary>
    public int Refresh(StoredEmbeddingSet set, SetScores scores)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(scores);
        var refreshed = 0;
        foreach (var (key, cached) in _cache)
        {
            if (key.SetKey != set.Key || key.AllScores || cached.Revision >= scores.Revision || cached.Request is not { } request
                || !_asked.TryGetValue(key, out var asked) || asked < cached.Revision)
            {
                continue;
            }

            var (candidates, inDataset) = Candidates(scores, request, matching: null);
            var fresh = Rank(candidates, request, cached.Items.Count, previous: null) with
            {
                Revision = scores.Revision, ExcludedVersion = cached.ExcludedVersion, DatasetCount = inDataset, Request = request,
            };
            refreshed += _cache.TryUpdate(key, fresh, cached) ? 1 : 0;
        }

        if (refreshed > 0)
        {
            // The fingerprint that page tokens name this ranking by, computed here too (a pass over every entry: about
            // 0.2 s at a million records on the loaded 2-core build machine, `recs-fingerprint`), so the first page after the
            // publication does not pay it.
            RankingFingerprint.Of(scores);
        }

        return refreshed;
    }

    private void OnRankingPublished(StoredEmbeddingSet set)
    {
        if (_scheduler is not { } scheduler || _limiter is not { } limiter || !_cache.Keys.Any(k => k.SetKey == set.Key))
        {
            return;
        }

        // On the background threads, never the worker's or a request's; a failure costs only the warm cache. Only the
        // revision published now: when a newer one is out by the time the job runs (a pass is publishing its chunks),
        // the job is left to that pass's own refresh.
        var published = scheduler.Scores(set).Revision;
        _ = limiter.RunAsync(() => scheduler.Scores(set) is { } scores && scores.Revision == published ? Refresh(set, scores) : 0).ContinueWith(
            t => RecommendationPagesLog.RefreshFailed(_logger, t.Exception!.GetBaseException(), set.SetId),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }
}
