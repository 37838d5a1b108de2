using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Chroma.Server.HealthChecks;

/// <summary>
/// Liveness: answering at all is the signal (a hung or dead process cannot answer). Deliberately independent of the disk
/// and the database, so a full disk makes the server not ready instead of getting it restarted in a loop.
/// </summary>
internal sealed class LivenessHealthCheck : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(HealthCheckResult.Healthy("the server process answers"));
}
