using Microsoft.Extensions.Configuration;

namespace Chroma.DependencyInjection;

/// <summary>
/// Keys of the client's configuration section that are not client settings but are one or two letters away from one
/// (<c>Chroma__Endpiont</c>): the binder ignores them without a word, and the client then runs on the default. Keys far
/// from every client setting (the server's <c>Port</c>, <c>DataDirectory</c>... in a shared <c>Chroma</c> section) are
/// left alone.
/// </summary>
internal sealed class ConfigurationNearMisses(IConfiguration section)
{
    private static readonly string[] Settings =
    [
        nameof(ChromaClientOptions.Endpoint), nameof(ChromaClientOptions.Endpoints), nameof(ChromaClientOptions.ApiKey),
        nameof(ChromaClientOptions.QueueCapacity), nameof(ChromaClientOptions.MaxBatchSize), nameof(ChromaClientOptions.MaxBatchBytes),
        nameof(ChromaClientOptions.FlushInterval), nameof(ChromaClientOptions.MaxBatchesInFlight), nameof(ChromaClientOptions.DrainTimeout),
        nameof(ChromaClientOptions.AckTimeout), nameof(ChromaClientOptions.RequestTimeout), nameof(ChromaClientOptions.Retry),
        nameof(ChromaClientOptions.DropLogInterval),
    ];

    /// <summary>Each near-miss key (its full configuration path) with the setting it is likely meant as.</summary>
    public IReadOnlyList<(string Path, string Meant)> Find()
    {
        var found = new List<(string, string)>();
        foreach (var child in section.GetChildren())
        {
            if (Settings.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            var meant = Settings.Where(s => Distance(child.Key.ToUpperInvariant(), s.ToUpperInvariant()) <= 2).OrderBy(s => Distance(child.Key.ToUpperInvariant(), s.ToUpperInvariant())).FirstOrDefault();
            if (meant is not null)
            {
                found.Add((child.Path, meant));
            }
        }

        return found;
    }

    // Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours cost 1.
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
