using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Chroma.Server.Storage;

/// <summary>Healthy while the database answers; reported through grpc.health.v1.</summary>
internal sealed class RecordStoreHealthCheck(IRecordStore store) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return Task.FromResult(store.IsReadable()
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("the database did not answer"));
        }
#pragma warning disable CA1031 // A health check reports any failure instead of throwing it.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // An outage is an expected state (logged by the components that retry): its reason, without a stack trace.
            return Task.FromResult(StorageOutage.Is(ex)
                ? HealthCheckResult.Unhealthy($"the database is unavailable ({ex.Message.ReplaceLineEndings(" ")})")
                : HealthCheckResult.Unhealthy("the database is not readable", ex));
        }
    }
}
