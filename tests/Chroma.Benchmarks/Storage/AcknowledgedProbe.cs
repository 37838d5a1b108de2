using System.Diagnostics;
using System.Globalization;

namespace Chroma.Benchmarks.Storage;

/// <summary>
/// Asks one replica, about once a second until stopped, for the first page of a set's recommendations with
/// <c>wait_for_acknowledged</c> (the ranking must cover every record acknowledged before the call, through any replica)
/// and a server wait of <see cref="WaitTimeout"/>; keeps each call's latency and whether the answer covered the request.
/// </summary>
internal sealed class AcknowledgedProbe
{
    /// <summary>The longest the server waits per call; an answer after it has covers_request false.</summary>
    public static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private readonly List<(double Ms, bool Covered)> _calls = [];

    public int Calls => _calls.Count;

    public int Covered => _calls.Count(c => c.Covered);

    public int Failed { get; private set; }

    /// <summary>Calls until <paramref name="stop"/> is cancelled (a call under way finishes first).</summary>
    public async Task RunAsync(ChromaClient client, string setId, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(client);
        var clock = Stopwatch.StartNew();
        var next = TimeSpan.Zero;
        while (!stop.IsCancellationRequested)
        {
            var call = Stopwatch.StartNew();
            try
            {
                var page = await client.GetRecommendationsAsync(setId, Query(), CancellationToken.None).ConfigureAwait(false); // A call under way finishes.
                _calls.Add((call.Elapsed.TotalMilliseconds, page.CoversRequest));
            }
            catch (ChromaException)
            {
                Failed++;
            }

            next += Interval;
            var wait = next - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            else
            {
                next = clock.Elapsed; // Behind (a long wait): the next call at once, then once a second from there.
            }
        }
    }

    /// <summary>One call as the probe makes them but waiting up to <paramref name="wait"/>; returns its latency in milliseconds and whether it covered the request.</summary>
    public static async Task<(double Ms, bool Covered)> OnceAsync(ChromaClient client, string setId, TimeSpan wait)
    {
        ArgumentNullException.ThrowIfNull(client);
        var call = Stopwatch.StartNew();
        var page = await client.GetRecommendationsAsync(setId, Query(wait)).ConfigureAwait(false);
        return (call.Elapsed.TotalMilliseconds, page.CoversRequest);
    }

    /// <summary>"p50 / p90 / max ms" of the calls' latencies.</summary>
    public string Latencies()
    {
        if (_calls.Count == 0)
        {
            return "no calls";
        }

        var sorted = _calls.Select(c => c.Ms).Order().ToArray();
        return string.Create(CultureInfo.InvariantCulture, $"{Percentile(sorted, 0.5),6:F0} {Percentile(sorted, 0.9),6:F0} {sorted[^1],6:F0}");
    }

    /// <summary>Nearest-rank percentile of ascending <paramref name="sorted"/>.</summary>
    public static double Percentile(double[] sorted, double share)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        return sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(share * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    private static RecommendationQuery Query(TimeSpan? wait = null) => new() { PageSize = 20, WaitForAcknowledged = true, WaitTimeout = wait ?? WaitTimeout };
}
