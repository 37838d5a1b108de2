using Chroma.Server.Cli.Internal;
using Chroma.Server.Recommendations;

namespace Chroma.Server.Cli.Report;

/// <summary>
/// Gathers what the report shows: an evenly spaced sample of the set's records (plus every
/// recommended one), their 2-D projection, and the drift of production over time against training.
/// </summary>
internal sealed class ReportBuilder
{
    private const int MinRecordsPerDriftWindow = 10;

    private readonly CliContext _context;

    /// <summary>Creates a builder that reads through <paramref name="context"/>.</summary>
    public ReportBuilder(CliContext context) => _context = context;

    /// <summary>Gets or sets the most records drawn. The default value is 2000.</summary>
    public int MaxPoints { get; init; } = 2000;

    /// <summary>Gets or sets how many recommendations to highlight. The default value is 20.</summary>
    public int Top { get; init; } = 20;

    /// <summary>Gets or sets the most production time windows in the drift chart. The default value is 8.</summary>
    public int DriftWindows { get; init; } = 8;

    /// <summary>Gets or sets where the drift chart comes from: <c>auto</c> (the server's history once it holds two or more measurements), <c>server</c> or <c>local</c>. The default value is <c>auto</c>.</summary>
    public string DriftSource { get; init; } = "auto";

    /// <summary>Counts the records the report reads (for a progress bar).</summary>
    public Task<long> CountAsync(string setId, CancellationToken cancellationToken = default) =>
        _context.Client.CountAsync(setId, cancellationToken: cancellationToken);

    /// <summary>Builds the model; <paramref name="onRecordsRead"/> is told of each page read.</summary>
    public async Task<ReportModel> BuildAsync(string setId, long total, Action<int> onRecordsRead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(onRecordsRead);
        var stride = Math.Max(1, (int)Math.Ceiling(total / (double)MaxPoints));
        var sample = new List<RecordView>();
        long index = 0;
        var query = new RecordQuery { PageSize = 1000, IncludeEmbeddings = true };
        do
        {
            var page = await _context.Client.GetRecordsAsync(setId, query, cancellationToken).ConfigureAwait(false);
            foreach (var record in page.Records)
            {
                if (index++ % stride == 0 && !record.Embedding.IsEmpty)
                {
                    sample.Add(RecordView.From(record));
                }
            }

            onRecordsRead(page.Records.Count);
            query.PageToken = page.NextPageToken;
        }
        while (query.PageToken is not null);

        var (recommendations, unavailable) = await RecommendationSource.TryGetAsync(
            _context, setId, new RecommendationQuery { PageSize = Top }, cancellationToken).ConfigureAwait(false);
        var ranks = new Dictionary<string, (int Rank, IReadOnlyList<string> Reasons)>(StringComparer.Ordinal);
        if (recommendations is not null)
        {
            var rank = 0;
            foreach (var recommendation in recommendations.Items)
            {
                ranks[recommendation.Record.Id] = (++rank, recommendation.Reasons.ToList());
            }

            await AddMissingAsync(setId, sample, ranks.Keys, cancellationToken).ConfigureAwait(false);
        }

        var dimension = sample.Count > 0 ? sample[0].Embedding!.Count : 0;
        var points = new List<ReportPoint>(sample.Count);
        IReadOnlyList<double> variances = [];
        if (sample.Count > 0)
        {
            var projection = PrincipalComponents.Fit(sample.Select(r => r.Embedding!.ToArray()).ToList());
            variances = projection.Variances;
            foreach (var record in sample)
            {
                var (x, y) = projection.Project(record.Embedding!.ToArray());
                var ranked = ranks.TryGetValue(record.Id, out var r) ? r : default;
                points.Add(new ReportPoint(record.Id, record.Dataset, x, y, record.Label, record.PredictedClass, record.InputUri,
                    ranked.Rank > 0 ? ranked.Rank : null, ranked.Reasons ?? []));
            }
        }

        // The server's own drift history when it keeps one; otherwise measured here from the sample.
        IReadOnlyList<DriftWindow> serverDrift = DriftSource == "local" ? [] : await ServerDriftHistoryAsync(setId, cancellationToken).ConfigureAwait(false);
        // In auto mode one server measurement is not yet a line over time: the local windows say more.
        var (drift, driftNote) = serverDrift.Count >= 2 || (DriftSource == "server" && serverDrift.Count > 0)
            ? (serverDrift, "Measured by the server: each point compares a training sample with the production records recent at that time.")
            : MeasureDrift(sample, dimension, cancellationToken);
        var note = recommendations is null
            ? $"The server offers no recommendations for this set ({unavailable}); only the projection is shown."
            : null;
        return new ReportModel(setId, dimension, total, points, variances, drift, note, driftNote, DateTimeOffset.UtcNow);
    }

    private async Task<IReadOnlyList<DriftWindow>> ServerDriftHistoryAsync(string setId, CancellationToken cancellationToken)
    {
        var sets = await _context.Client.ListSetsAsync(cancellationToken).ConfigureAwait(false);
        var set = sets.FirstOrDefault(s => s.SetId == setId);
        return set is null
            ? []
            : [.. set.DriftHistory.Select(d => new DriftWindow(d.ComputedAt.ToUnixTimeMilliseconds(), d.ComputedAt.ToUnixTimeMilliseconds(), d.ProductionSample, d.Mmd2, d.PValue))];
    }

    private async Task AddMissingAsync(string setId, List<RecordView> sample, IEnumerable<string> ids, CancellationToken cancellationToken)
    {
        var present = sample.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        var missing = ids.Where(id => !present.Contains(id)).ToList();
        if (missing.Count == 0)
        {
            return;
        }

        var query = new RecordQuery { Ids = missing, IncludeEmbeddings = true, PageSize = Math.Min(1000, missing.Count) };
        var page = await _context.Client.GetRecordsAsync(setId, query, cancellationToken).ConfigureAwait(false);
        sample.AddRange(page.Records.Where(r => !r.Embedding.IsEmpty).Select(RecordView.From));
    }

    private (IReadOnlyList<DriftWindow> Windows, string? Note) MeasureDrift(List<RecordView> sample, int dimension, CancellationToken cancellationToken)
    {
        var training = sample.Where(r => r.Dataset == "training").ToList();
        var production = sample.Where(r => r.Dataset == "production").OrderBy(r => r.TimestampUnixMs).ToList();
        var windowCount = Math.Min(DriftWindows, production.Count / MinRecordsPerDriftWindow);
        if (training.Count < 2 || windowCount < 1)
        {
            return ([], $"The server keeps no drift history for this set, and drift needs at least 2 training records and {MinRecordsPerDriftWindow} production records (found {training.Count} and {production.Count} in the sample).");
        }

        var reference = Flatten(training);
        var windows = new List<DriftWindow>(windowCount);
        var options = new DriftOptions { SampleSize = 200, Permutations = 100 };
        for (var w = 0; w < windowCount; w++)
        {
            // Equal-count windows in capture order: each point of the chart rests on the same amount of evidence.
            var from = w * production.Count / windowCount;
            var to = (w + 1) * production.Count / windowCount;
            var window = production.GetRange(from, to - from);
            var result = MmdDriftDetector.Measure(reference, Flatten(window), dimension, options, cancellationToken: cancellationToken);
            windows.Add(new DriftWindow(window[0].TimestampUnixMs, window[^1].TimestampUnixMs, window.Count, result.Mmd2, result.PValue));
        }

        return (windows, "Computed by this report from the sampled records: equal-count windows of production records in capture order, each against the training sample.");
    }

    private static float[] Flatten(List<RecordView> records) => records.SelectMany(r => r.Embedding!).ToArray();
}
