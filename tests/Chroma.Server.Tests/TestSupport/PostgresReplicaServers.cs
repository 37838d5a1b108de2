using Chroma.Protocol.V1;
using Chroma.Server.Recommendations;
using Chroma.Server.Storage;
using Chroma.Server.Tests.Reliability;
using Microsoft.Extensions.Logging;

namespace Chroma.Server.Tests.TestSupport;

/// <summary>Real servers as replicas of one PostgreSQL database (Studio off, warnings logged), and ingest through one.</summary>
internal static class PostgresReplicaServers
{
    /// <summary>
    /// Starts a replica on <paramref name="connectionString"/>. <paramref name="scoring"/> changes its scoring options (by
    /// default a lease of 5 minutes, so the first replica to score a set keeps it); <paramref name="fault"/> makes its
    /// fits of one set fail; <paramref name="minimumLevel"/> is the lowest level its logs capture; <paramref name="dataDirectory"/>
    /// is its data directory (by default a new one); <paramref name="replaceServices"/> replaces services after the fault's.
    /// </summary>
    public static Task<LoggedServer> StartAsync(
        string connectionString, Action<ScoringOptions>? scoring = null, FailingNeighborSearch? fault = null, LogLevel minimumLevel = LogLevel.Warning,
        string? dataDirectory = null, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? replaceServices = null) =>
        LoggedServer.StartAsync(
            o =>
            {
                o.DataDirectory = dataDirectory ?? o.DataDirectory;
                o.Storage.Provider = StorageProvider.Postgres;
                o.Storage.ConnectionString = connectionString;
                o.Web.Enabled = false;
                o.Scoring.LeaseDuration = TimeSpan.FromMinutes(5);
                scoring?.Invoke(o.Scoring);
            },
            minimumLevel,
            services =>
            {
                fault?.ReplaceIn(services);
                replaceServices?.Invoke(services);
            });

    /// <summary>Logs <paramref name="batch"/> through <paramref name="server"/> and checks it was stored.</summary>
    public static async Task LogAsync(LoggedServer server, LogBatch batch, CancellationToken cancellationToken)
    {
        using var call = new Ingest.IngestClient(server.Invoker).Log(cancellationToken: cancellationToken);
        await call.RequestStream.WriteAsync(batch, cancellationToken);
        Assert.That(await call.ResponseStream.MoveNext(cancellationToken), Is.True, "an ack for the batch");
        Assert.That(call.ResponseStream.Current.Error, Is.Null);
        await call.RequestStream.CompleteAsync();
    }
}
