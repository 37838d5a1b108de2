using Chroma.Server.Indexing;
using Chroma.Server.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Chroma.Server.HealthChecks;

/// <summary>
/// Query readiness right after a start: NOT_SERVING while a set's index is still being loaded (from its file, about 2 s
/// at a million 128-d records, or read from the database after a crash or a restore, 9-24 s), since a FindNearest of
/// that set waits for the load. An outside probe saw readiness SERVING and FindNearest calls held 2-14 s (probe U, U1).
/// Once the start's loads have ended it is healthy for good: later, a set's index only takes in new records, and
/// queries answer meanwhile, saying <c>index_behind</c> where they could not wait.
/// </summary>
internal sealed class IndexStartLoadHealthCheck(EmbeddingSetIndexes indexes, IRecordStore store) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (indexes.StartLoadEnded)
        {
            return Task.FromResult(HealthCheckResult.Healthy());
        }

        int loading;
        try
        {
            loading = store.ListSets().Count(s => indexes.GetStatus(s.Set) is null);
        }
#pragma warning disable CA1031 // The record-store check reports a database that does not answer; this one only counts loads.
        catch (Exception)
#pragma warning restore CA1031
        {
            return Task.FromResult(HealthCheckResult.Healthy("the sets could not be listed; the record-store check says why"));
        }

        return Task.FromResult(loading == 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"{loading} set indexes are still loading after the start; FindNearest of those sets waits for them"));
    }
}
