using Chroma.Server.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Chroma.Server.HealthChecks;

/// <summary>
/// Ingest readiness: unhealthy while the disk is full (since a write failed for lack of space) or the file system refuses
/// writes (read-only, failing); each check then tries a
/// small probe write (at most once a second), so readiness returns as soon as space does. The refusal and the return are
/// logged by <see cref="StorageSpace"/>; a probe that throws is logged here (the health check service's own log of each
/// result is filtered out: <see cref="Hosting.Internal.HealthCheckLogFilter"/>).
/// </summary>
internal sealed partial class StorageSpaceHealthCheck(StorageSpace space, ILogger<StorageSpaceHealthCheck> logger) : IHealthCheck
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
            ProbeFailed(logger, ex);
            return HealthCheckResult.Unhealthy("the disk is full and the probe write failed", ex);
        }

        return HealthCheckResult.Unhealthy(space.IsUnwritable
            ? $"the data directory cannot be written (since {space.FullSince:O}; a read-only or failing file system): ingest batches are refused with ResourceExhausted"
            : $"the disk is full (since {space.FullSince:O}): ingest batches are refused with ResourceExhausted");
    }

    [LoggerMessage(EventId = 30, Level = LogLevel.Warning,
        Message = "Ingest readiness: the probe write to the full data directory failed; chroma.v1.Ingest stays NOT_SERVING")]
    private static partial void ProbeFailed(ILogger logger, Exception exception);
}
