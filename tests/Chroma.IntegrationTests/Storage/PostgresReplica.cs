using Chroma.Server.Hosting;
using Chroma.Server.Storage;

namespace Chroma.IntegrationTests.Storage;

/// <summary>
/// Starts an embedded server that stores in a PostgreSQL database, as one replica of several: gRPC on 127.0.0.1 on a
/// free port, a fresh data directory of its own (replicas share the store, not their index files).
/// </summary>
internal static class PostgresReplica
{
    /// <param name="connectionString">The shared database.</param>
    /// <param name="configure">Changes to the options before the start (scoring intervals, an API key, Studio's port).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static Task<ChromaServer> StartAsync(string connectionString, Action<ChromaServerOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        var options = new ChromaServerOptions
        {
            Host = "127.0.0.1",
            Port = 0,
            DataDirectory = Path.Combine(Path.GetTempPath(), "chroma-it-" + Guid.NewGuid().ToString("N")),
            Storage = new StorageOptions { Provider = StorageProvider.Postgres, ConnectionString = connectionString },
        };
        configure?.Invoke(options);
        return ChromaServer.StartAsync(options, cancellationToken);
    }
}
