namespace Chroma.Server.Hosting.Internal;

/// <summary>
/// Keeps ASP.NET Core's health check service from logging each unhealthy result at Error ("Health check record-store
/// with status Unhealthy", once per probe: 116 entries in a 15 s PostgreSQL outage probed at 4 Hz). The checks log their
/// own results instead: a database outage once when it begins, at most once a minute while it lasts and once when it
/// ends (<see cref="Storage.RecordStoreHealthCheck"/>), a full disk when writes are refused and when they succeed again
/// (<see cref="Storage.StorageSpace"/>).
/// </summary>
internal static class HealthCheckLogFilter
{
    /// <summary>The log category of the health check service (Microsoft.Extensions.Diagnostics.HealthChecks).</summary>
    public const string Category = "Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService";

    /// <summary>Adds the filter to <paramref name="logging"/>.</summary>
    public static void AddTo(ILoggingBuilder logging)
    {
        ArgumentNullException.ThrowIfNull(logging);
        logging.AddFilter(Category, LogLevel.None);
    }
}
