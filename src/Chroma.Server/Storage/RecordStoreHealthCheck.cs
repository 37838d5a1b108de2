using Chroma.Server.Storage.Internal;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Chroma.Server.Storage;

/// <summary>
/// Healthy while the database answers; reported through grpc.health.v1. It logs its own results (the health check
/// service's log of each unhealthy result is filtered out, <see cref="Hosting.Internal.HealthCheckLogFilter"/>): a
/// database outage as the other components log one (<see cref="StorageOutageLog"/>: one warning without a stack trace
/// when it begins, a reminder at most once a minute, one line when a check finds the database back), however often
/// readiness is probed; any other failure each time, with its stack trace.
/// </summary>
internal sealed partial class RecordStoreHealthCheck(IRecordStore store, TimeProvider timeProvider, ILogger<RecordStoreHealthCheck> logger) : IHealthCheck
{
    private readonly StorageOutageLog _outageLog = new(logger, "readiness (the record-store health check)", timeProvider);

    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            if (!store.IsReadable())
            {
                NotReadable(logger, null);
                return Task.FromResult(HealthCheckResult.Unhealthy("the database did not answer"));
            }

            _outageLog.Succeeded();
            return Task.FromResult(HealthCheckResult.Healthy());
        }
#pragma warning disable CA1031 // A health check reports any failure instead of throwing it.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // An outage is an expected state: its reason, without a stack trace.
            if (_outageLog.TryLog(ex))
            {
                return Task.FromResult(HealthCheckResult.Unhealthy($"the database is unavailable ({ex.Message.ReplaceLineEndings(" ")})"));
            }

            NotReadable(logger, ex);
            return Task.FromResult(HealthCheckResult.Unhealthy("the database is not readable", ex));
        }
    }

    [LoggerMessage(EventId = 29, Level = LogLevel.Error,
        Message = "Readiness: the database is not readable, so chroma.v1.Ingest and chroma.v1.Query report NOT_SERVING")]
    private static partial void NotReadable(ILogger logger, Exception? exception);
}
