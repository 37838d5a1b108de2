using System.Net;
using Chroma.Server.Indexing;
using Chroma.Server.Recommendations;
using Chroma.Server.Security;
using Chroma.Server.Services;
using Chroma.Server.Services.Internal;
using Chroma.Server.Storage;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Chroma.Server.Hosting.Internal;

/// <summary>
/// The one place that turns a <see cref="WebApplicationBuilder"/> into a Chroma server, shared by
/// the standalone <c>Program</c> and the embeddable <see cref="ChromaServer"/>.
/// </summary>
internal static class ChromaServerApplication
{
    // Long enough to finish an in-flight batch commit, short enough that a restart is prompt.
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Validates <paramref name="options"/>, registers the services, binds Kestrel and maps the gRPC endpoints.</summary>
    public static WebApplication BuildChromaServer(this WebApplicationBuilder builder, ChromaServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ChromaServerOptionsValidator.Validate(options);
        options = options.Clone();

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            Listen(kestrel, options.Host, options.Port);
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = ShutdownTimeout);
        AddChromaServices(builder.Services, options);

        var app = builder.Build();
        MapChromaEndpoints(app);

        // Open the store now so a bad data directory fails start-up, not the first call.
        _ = app.Services.GetRequiredService<IRecordStore>();
        return app;
    }

    /// <summary>The port Kestrel actually bound (differs from the configured one when that was 0).</summary>
    public static int GetBoundPort(WebApplication app)
    {
        var address = app.Urls.FirstOrDefault()
            ?? throw new InvalidOperationException("The Chroma server started without a bound address.");
        return new Uri(address.Replace("*", "localhost", StringComparison.Ordinal)).Port;
    }

    /// <summary>The address clients use: <c>http://{host}:{port}</c> (a wildcard host reads as localhost).</summary>
    public static Uri GetEndpoint(string host, int port)
    {
        var clientHost = host is "*" || host == IPAddress.Any.ToString() ? "localhost"
            : host == IPAddress.IPv6Any.ToString() ? "localhost"
            : host;
        return new UriBuilder(Uri.UriSchemeHttp, clientHost, port).Uri;
    }

    private static void AddChromaServices(IServiceCollection services, ChromaServerOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<IRecordStore>(sp => SqliteRecordStore.Open(
            options.DataDirectory, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<EmbeddingSetIndexes>();
        services.AddHostedService<IndexingWorker>();
        services.AddSingleton(HnswTrainingNeighborSearch.CreateFactory(options.IndexExactSearchThreshold));
        services.AddSingleton<BatchIngestor>();
        services.AddSingleton<ApiKeyInterceptor>();

        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = options.MaxMessageBytes;
            grpc.EnableDetailedErrors = false;
            if (options.ApiKey is not null)
            {
                grpc.Interceptors.Add<ApiKeyInterceptor>();
            }
        });
        services.AddGrpcReflection();
        services.AddGrpcHealthChecks().AddCheck<RecordStoreHealthCheck>("record-store");
    }

    private static void MapChromaEndpoints(WebApplication app)
    {
        app.MapGrpcService<IngestService>();
        app.MapGrpcService<QueryService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
    }

    private static void Listen(KestrelServerOptions kestrel, string host, int port)
    {
        // h2c: gRPC without TLS needs HTTP/2 only (no HTTP/1.1 upgrade path exists for it).
        static void Http2(ListenOptions listen) => listen.Protocols = HttpProtocols.Http2;

        if (host == "*")
        {
            kestrel.ListenAnyIP(port, Http2);
        }
        else if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            // Kestrel cannot pick one dynamic port for both loopbacks, so port 0 binds IPv4 only.
            if (port == 0)
            {
                kestrel.Listen(IPAddress.Loopback, port, Http2);
            }
            else
            {
                kestrel.ListenLocalhost(port, Http2);
            }
        }
        else
        {
            kestrel.Listen(IPAddress.Parse(host), port, Http2);
        }
    }
}
