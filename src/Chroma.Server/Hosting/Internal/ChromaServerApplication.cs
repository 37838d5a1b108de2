using System.Net;
using System.Security.Cryptography.X509Certificates;
using Chroma.Server.Background;
using Chroma.Server.Indexing;
using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Recommendations.Serving;
using Chroma.Server.Security;
using Chroma.Server.Services;
using Chroma.Server.Services.Internal;
using Chroma.Server.Storage;
using Grpc.AspNetCore.Server.Model;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;

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

        var certificate = ServerCertificateLoader.Load(options);
        if (certificate is not null)
        {
            // The slim (KestrelCore) host leaves HTTPS out unless asked for.
            builder.WebHost.UseKestrelHttpsConfiguration();
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            Listen(kestrel, options.Host, options.Port, certificate);
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = ShutdownTimeout);
        AddChromaServices(builder.Services, options);

        var app = builder.Build();
        if (certificate is not null)
        {
            // The certificate holds a native key handle; release it with the server.
            app.Lifetime.ApplicationStopped.Register(certificate.Dispose);
        }

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

    /// <summary>
    /// The address clients use: <c>http://{host}:{port}</c>, or <c>https://</c> when <paramref name="tls"/>
    /// (a wildcard host reads as localhost).
    /// </summary>
    public static Uri GetEndpoint(string host, int port, bool tls = false)
    {
        var clientHost = host is "*" || host == IPAddress.Any.ToString() ? "localhost"
            : host == IPAddress.IPv6Any.ToString() ? "localhost"
            : host;
        return new UriBuilder(tls ? Uri.UriSchemeHttps : Uri.UriSchemeHttp, clientHost, port).Uri;
    }

    private static void AddChromaServices(IServiceCollection services, ChromaServerOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<IRecordStore>(sp => SqliteRecordStore.Open(
            options.DataDirectory, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<EmbeddingSetIndexes>();
        services.AddHostedService<IndexingWorker>();
        services.AddSingleton<BatchIngestor>();
        AddRecommendations(services, options);
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

        // Our binder replaces Grpc.AspNetCore's (after every AddGrpc* call, which would re-add it) so a
        // request protobuf cannot parse is answered InvalidArgument naming the field, not Unknown.
        services.RemoveAll(typeof(IServiceMethodProvider<>));
        services.AddSingleton(typeof(IServiceMethodProvider<>), typeof(ValidatingServiceMethodProvider<>));
    }

    private static void AddRecommendations(IServiceCollection services, ChromaServerOptions options)
    {
        // Dedicated threads for CPU-heavy background work, so it never starves the thread pool that serves requests.
        services.AddSingleton(_ => new BackgroundWorkLimiter(
            options.BackgroundWorkThreads > 0 ? options.BackgroundWorkThreads : BackgroundWorkLimiter.DefaultDegreeOfParallelism,
            "chroma-background"));
        // Training-neighbour search for the kNN and boundary signals: an HNSW graph over the fitted training rows,
        // exact below the same threshold as the sets' own indexes.
        services.AddSingleton<NeighborSearchFactory>(sp => HnswTrainingNeighborSearch.CreateFactory(
            options.IndexExactSearchThreshold, sp.GetRequiredService<BackgroundWorkLimiter>()));
        services.AddSingleton(new RecommendationOptions());
        services.AddSingleton(new DriftOptions());
        services.AddSingleton(sp => (IRecordScoreStore)sp.GetRequiredService<IRecordStore>());
        services.AddSingleton<SetScoringPass>();
        services.AddSingleton<ScoringScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<ScoringScheduler>());
        services.AddSingleton<RecommendationPages>();
    }

    private static void MapChromaEndpoints(WebApplication app)
    {
        app.MapGrpcService<IngestService>();
        app.MapGrpcService<QueryService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
    }

    private static void Listen(KestrelServerOptions kestrel, string host, int port, X509Certificate2? certificate)
    {
        // h2c: gRPC without TLS needs HTTP/2 only (no HTTP/1.1 upgrade path exists for it). With
        // TLS, HTTP/2 only too: ALPN then never settles on HTTP/1.1, which gRPC cannot use.
        void Http2(ListenOptions listen)
        {
            listen.Protocols = HttpProtocols.Http2;
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }
        }

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
