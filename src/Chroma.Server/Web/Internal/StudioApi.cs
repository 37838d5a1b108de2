using Chroma.Server.Indexing;
using Chroma.Server.Labeling;
using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Recommendations.Serving;
using Chroma.Server.Storage;
using Chroma.Server.Validation;

namespace Chroma.Server.Web.Internal;

/// <summary>
/// Studio's API handlers: sign-in, sets, the map, records, the review queue, actions and live events.
/// Reads go to the same store, indexes and published scores the gRPC query service uses.
/// </summary>
internal sealed partial class StudioApi
{
    private const int DriftHistoryShown = 100;

    private readonly IRecordStore _store;
    private readonly IRecordScoreStore _scores;
    private readonly ScoringScheduler _scoring;
    private readonly RecommendationPages _recommendations;
    private readonly EmbeddingSetIndexes _indexes;
    private readonly MapProjections _maps;
    private readonly StudioSessions _sessions;
    private readonly StudioUndo _undo;
    private readonly LabelingService _labeling;
    private readonly WebOptions _options;
    private readonly LimitsOptions _limits;
    private readonly RecommendationOptions _recommendationOptions;
    private readonly TimeProvider _time;

    /// <summary>Creates the handlers.</summary>
    public StudioApi(
        IRecordStore store,
        IRecordScoreStore scores,
        ScoringScheduler scoring,
        RecommendationPages recommendations,
        EmbeddingSetIndexes indexes,
        MapProjections maps,
        StudioSessions sessions,
        StudioUndo undo,
        LabelingService labeling,
        WebOptions options,
        LimitsOptions limits,
        RecommendationOptions recommendationOptions,
        TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(indexes);
        ArgumentNullException.ThrowIfNull(scoring);
        _store = store;
        _scores = scores;
        _scoring = scoring;
        _recommendations = recommendations;
        _indexes = indexes;
        _maps = maps;
        _sessions = sessions;
        _undo = undo;
        _labeling = labeling;
        _options = options;
        _limits = limits;
        _recommendationOptions = recommendationOptions;
        _time = time;

        // The same followers of a delete as the gRPC DeleteRecords: the set's index and its scores.
    }

    /// <summary>GET /api/session: whether a key is needed and whether this browser is signed in.</summary>
    public async Task<IResult> SessionAsync(HttpContext context) =>
        Results.Json(new SessionState(_sessions.KeyRequired, await _sessions.IsSignedInAsync(context).ConfigureAwait(false)), StudioJson.Options);

    /// <summary>POST /api/session with <c>{"key": "..."}</c>: a session cookie when the key is right.</summary>
    public IResult SignIn(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = StudioRequests.Read<SignInRequest>(context);
        if (!_sessions.KeyRequired)
        {
            return Results.Json(new SessionState(false, true), StudioJson.Options);
        }

        // Guessing is slowed down per address: a few wrong keys, then 429 until the minute is out.
        var address = context.Connection.RemoteIpAddress;
        if (_sessions.Throttle.RetryAfter(address) is { } wait)
        {
            var seconds = (int)Math.Ceiling(wait.TotalSeconds);
            _sessions.Rejected(address);
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Results.Json(
                new StudioError($"too many wrong keys from this address: try again in {seconds} s"), StudioJson.Options, statusCode: StatusCodes.Status429TooManyRequests);
        }

        if (_sessions.SignIn(request?.Key) is not { } token)
        {
            // The same answer whatever was wrong; the key itself is never logged or echoed.
            _sessions.Throttle.Failed(address);
            _sessions.Rejected(address);
            return Results.Json(new StudioError("wrong API key"), StudioJson.Options, statusCode: StatusCodes.Status401Unauthorized);
        }

        _sessions.Throttle.Succeeded(address);

        context.Response.Cookies.Append(StudioSessions.CookieName, token, new CookieOptions
        {
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = SameSiteMode.Strict,
            Path = "/",
            MaxAge = StudioSessions.Lifetime,
        });
        return Results.Json(new SessionState(true, true), StudioJson.Options);
    }

    /// <summary>
    /// DELETE /api/session: signs this browser out. When the sign-out cannot be stored (the database is unreachable) the
    /// cookie is still dropped and this server refuses the token, and the answer is 503 saying that other servers (and
    /// this one after a restart) may still accept it.
    /// </summary>
    public async Task<IResult> SignOutAsync(HttpContext context)
    {
        try
        {
            await _sessions.SignOutAsync(context).ConfigureAwait(false);
        }
        catch (System.Data.Common.DbException exception)
        {
            context.Response.Cookies.Delete(StudioSessions.CookieName);
            return Results.Json(
                new StudioError($"signed out here, but the sign-out could not be stored ({exception.Message.TrimEnd('.')}): other servers, and this one after a restart, still accept the session until it expires; change the API key to end every session"),
                StudioJson.Options,
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        context.Response.Cookies.Delete(StudioSessions.CookieName);
        return Results.Json(new SessionState(_sessions.KeyRequired, !_sessions.KeyRequired), StudioJson.Options);
    }

    /// <summary>
    /// GET /api/sets: every set with counts per dataset, drift history and scoring freshness; with <c>set</c> given (once
    /// or more), only those sets, so a page that hears one set changed fetches that one card (probe X, X1: at 5,000 sets
    /// the whole list is 2.3 MB).
    /// </summary>
    public IResult Sets(IReadOnlyCollection<string?>? only = null)
    {
        var sets = new List<SetView>();
        var wanted = only is { Count: > 0 } ? only.OfType<string>().ToHashSet(StringComparer.Ordinal) : null;
        foreach (var summary in _store.ListSets())
        {
            if (wanted is not null && !wanted.Contains(summary.Set.SetId))
            {
                continue;
            }

            var set = summary.Set;
            var scores = _scoring.Scores(set);
            var scorable = summary.DatasetCounts.Where(c => c.Key != DatasetNames.Training).Sum(c => c.Value);
            sets.Add(new SetView(
                set.SetId,
                set.Descriptor.Model,
                set.Descriptor.ModelVersion,
                set.Descriptor.Layer,
                set.Dimension,
                SetMetrics.ToName(set.Metric),
                summary.TotalRecords,
                [.. summary.DatasetCounts.Select(c => new DatasetView(c.Key, c.Value))],
                summary.CreatedUnixMs,
                summary.UpdatedUnixMs,
                [.. _scores.ReadDriftHistory(set, DriftHistoryShown).Select(d => new DriftView(d.ComputedUnixMs, d.Mmd2, d.PValue, d.ProductionSample))],
                new ScoringView(scores.ComputedUnixMs, scores.Entries.Count, Math.Max(0, scorable - scores.Entries.Count), scores.Revision, scores.TrainingProblem) { Stale = scores.Stale, Failure = FailureView.Of(_scoring.LastFailure(set)) }));
        }

        return Results.Json(sets, StudioJson.Options);
    }

    private StoredEmbeddingSet? FindSet(string? setId) => string.IsNullOrWhiteSpace(setId) ? null : _store.FindSet(setId);

    private static IResult BadRequest(string problem) => Results.Json(new StudioError(problem), StudioJson.Options, statusCode: StatusCodes.Status400BadRequest);

    private static IResult NoSuchSet(string? setId) => setId is null or { Length: 0 }
        ? BadRequest("set: is required (an embedding set id, model/version/layer)")
        : Results.Json(new StudioError($"set: no embedding set {SetDescriptorValidator.Quote(setId)}"), StudioJson.Options, statusCode: StatusCodes.Status404NotFound);

    private static float CombinedScore(ScoredEntry entry) => (float)SignalCombiner.Score(entry.Record, RecommendationStrategy.Balanced);
}
