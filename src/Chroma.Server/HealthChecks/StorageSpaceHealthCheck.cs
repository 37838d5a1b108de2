using Chroma.Server.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Chroma.Server.HealthChecks;

/// <summary>
/// Ingest readiness: unhealthy while the disk is full (since a write failed for lack of space) or the file system refuses
/// writes (read-only, failing); each check then tries a
/// small probe write (at most once a second), so readiness returns as soon as space does.
/// </summary>
internal sealed class StorageSpaceHealthCheck(StorageSpace space) : IHealthCheck
{
    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!space.IsFull)
        {
            return HealthCheckResult.Healthy();
        }

        try
        {
            if (await space.ProbeAsync(cancellationToken).ConfigureAwait(false))
            {
                return HealthCheckResult.Healthy("there is room again");
            }
        }
#pragma warning disable CA1031 // A health check reports any failure instead of throwing it.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return HealthCheckResult.Unhealthy("the disk is full and the probe write failed", ex);
        }

        return HealthCheckResult.Unhealthy(space.IsUnwritable
            ? $"the data directory cannot be written (since {space.FullSince:O}; a read-only or failing file system): ingest batches are refused with ResourceExhausted"
            : $"the disk is full (since {space.FullSince:O}): ingest batches are refused with ResourceExhausted");
    }
}
