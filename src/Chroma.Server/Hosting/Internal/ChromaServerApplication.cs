using System.Diagnostics.Metrics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Chroma.Server.Diagnostics.Internal;
using Chroma.Server.HealthChecks;
using Chroma.Server.Background;
using Chroma.Server.Background.Internal;
using Chroma.Server.Indexing;
using Chroma.Server.Labeling;
using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Recommendations.Serving;
using Chroma.Server.Retention;
using Chroma.Server.Security;
using Chroma.Server.Security.Internal;
using Chroma.Server.Services;
using Chroma.Server.Services.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Postgres;
using Chroma.Server.Validation;
using Chroma.Server.Validation.Internal;
using Chroma.Server.Web;
using Chroma.Server.Web.Internal;
using Grpc.AspNetCore.Server;
using Grpc.AspNetCore.Server.Model;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Chroma.Server.Hosting.Internal;

/// <summary>
/// The one place that turns a <see cref="WebApplicationBuilder"/> into a Chroma server, shared by
/// the standalone <c>Program</c> and the embeddable <see cref="ChromaServer"/>.
/// </summary>
internal static class ChromaServerApplication
{
    /// <summary>
    /// Validates every options type (bound from <paramref name="configuration"/>, the <c>Chroma</c> section, or taken
    /// from <paramref name="options"/> when it is null; a bad one throws <see cref="OptionsValidationException"/> naming
    /// the setting), loads the certificate, registers the options and services, binds Kestrel, maps the gRPC endpoints
    /// and opens the store, so a server that cannot run fails here, before it listens. <paramref name="replaceServices"/>,
    /// when given, runs after the server's own registrations (tests put a fake in place of one of them).
    /// </summary>
    public static WebApplication BuildChromaServer(
        this WebApplicationBuilder builder, ChromaServerOptions options, IConfiguration? configuration = null, Action<IServiceCollection>? replaceServices = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        options = options.Clone();
        var certificate = ServerCertificateLoader.Load(ValidateOptions(options, configuration));
        var dataLock = LockDataDirectoryAndCheckAddresses(options, certificate);
        builder.Services.AddChromaOptions(options, configuration);

        var studio = options.Web.Enabled;
        if (certificate is not null)
        {
            // The slim (KestrelCore) host leaves HTTPS out unless asked for.
            builder.WebHost.UseKestrelHttpsConfiguration();
        }

        var bindings = new ServerBindings(options);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            Listen(kestrel, options.Host, options.Port, certificate, HttpProtocols.Http2, listen => bindings.Grpc = listen);
            if (studio)
            {
                // Studio: HTTP/1.1 on its own port, so browsers (and server-sent events) work without gRPC's HTTP/2-only rules.
                Listen(kestrel, options.Host, options.Web.ResolvePort(options.Port), certificate, HttpProtocols.Http1, listen => bindings.Web = listen);
            }
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);
        builder.Services.AddSingleton(bindings);

        // A factory registration, so the container releases the lock when it is disposed: after the store it opened
        // before (services are disposed in the reverse order of their creation).
        builder.Services.AddSingleton(_ => dataLock);
        AddChromaServices(builder.Services, options);
        if (certificate is not null)
        {
            builder.Services.AddHostedService(services => new CertificateValidityWatch(
                certificate, services.GetRequiredService<TimeProvider>(), services.GetRequiredService<ILogger<CertificateValidityWatch>>()));
        }

        if (studio)
        {
            builder.Services.AddStudio();
        }

        replaceServices?.Invoke(builder.Services);
        var startupLogFilter = StartupFailureLogFilter.AddTo(builder.Logging);
        HealthCheckLogFilter.AddTo(builder.Logging);

        WebApplication app;
        try
        {
            app = builder.Build();
        }
        catch
        {
            dataLock.Dispose();
            certificate?.Dispose();
            throw;
        }

        try
        {
            _ = app.Services.GetRequiredService<DataDirectoryLock>();
            if (certificate is not null)
            {
                // The certificate holds a native key handle; release it with the server.
                app.Lifetime.ApplicationStopped.Register(certificate.Dispose);
            }

            startupLogFilter.OpenWhenStarted(app.Lifetime);
            UseGrpcRequestChecks(app, options);
            MapChromaEndpoints(app);
            if (studio)
            {
                app.UseResponseCompression();
                app.MapStudio();
            }

            // Open the store now so a bad data directory fails start-up, not the first call.
            _ = app.Services.GetRequiredService<IRecordStore>();

            // The metrics' instruments exist from the start, so a listener attached before the first call sees them.
            _ = app.Services.GetRequiredService<ServerMetrics>();
        }
        catch
        {
            ((IDisposable)app).Dispose();
            dataLock.Dispose();
            certificate?.Dispose();
            throw;
        }

        return app;
    }

    // Both before anything expensive: one server per data directory (SQLite's file and every provider's index files
    // would be written by two processes), and a taken port or foreign address fails before the store is read.
    private static DataDirectoryLock LockDataDirectoryAndCheckAddresses(ChromaServerOptions options, X509Certificate2? certificate)
    {
        DataDirectoryLock? dataLock = null;
        try
        {
            dataLock = DataDirectoryLock.Acquire(options.DataDirectory);
            ListenAddressCheck.ThrowIfUnavailable(options);
            return dataLock;
        }
        catch
        {
            dataLock?.Dispose();
            certificate?.Dispose();
            throw;
        }
    }

    // The start-up validation of every options type (what ValidateOnStart runs again when the host starts), over the
    // same registrations, run before the host is built: building it already reads Kestrel's listen options, and nothing
    // may be bound, loaded or opened with a bad value. Returns the validated certificate settings.
    private static CertificateOptions ValidateOptions(ChromaServerOptions options, IConfiguration? configuration)
    {
        var provider = new DefaultServiceProviderFactory().CreateServiceProvider(new ServiceCollection().AddChromaOptions(options, configuration));
        try
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
            return provider.GetRequiredService<CertificateOptions>();
        }
        finally
        {
            (provider as IDisposable)?.Dispose();
        }
    }

    /// <summary>The gRPC port Kestrel actually bound (differs from the configured one when that was 0).</summary>
    public static int GetBoundPort(WebApplication app) => app.Services.GetRequiredService<ServerBindings>().GrpcPort;

    /// <summary>The address of Studio once started, or null when it is turned off.</summary>
    public static Uri? GetWebEndpoint(WebApplication app, ChromaServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var port = app.Services.GetRequiredService<ServerBindings>().WebPort;
        return port is { } p ? GetEndpoint(options.Host, p, tls: options.Certificate.Path is not null) : null;
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
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new StorageSpace(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<StorageSpace>>()));
        AddStorage(services, options);
        services.AddSingleton(sp => new EmbeddingSetIndexes(
            sp.GetRequiredService<IRecordStore>(),
            sp.GetRequiredService<IndexingOptions>(),
            IndexDirectory(sp),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<EmbeddingSetIndexes>>())
        {
            MayRunDeferredWork = sp.GetRequiredService<GrpcActivity>().MayRunDeferred,
        });
        services.AddHostedService<IndexingWorker>();
        services.AddSingleton<BatchIngestor>();
        AddRecommendations(services);
        services.AddSingleton<RetentionWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<RetentionWorker>());
        services.AddSingleton<RetentionReport>();
        AddLabeling(services);
        services.AddSingleton<RejectedKeys>();
        services.AddSingleton(sp =>
        {
            var keys = sp.GetRequiredService<ChromaServerOptions>();
            return new ApiKeyCheck(keys.ApiKey, sp.GetRequiredService<RejectedKeys>(), keys.PreviousApiKey, sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton<StorageOutageInterceptor>();
        services.AddSingleton<ServerFaultInterceptor>();
        services.AddSingleton<GrpcActivity>();
        services.AddSingleton<GrpcActivityInterceptor>();
        services.AddSingleton(sp => new ServerMetrics(
            sp.GetRequiredService<IMeterFactory>(),
            sp.GetRequiredService<BatchIngestor>(),
            sp.GetRequiredService<EmbeddingSetIndexes>(),
            sp.GetRequiredService<ScoringScheduler>()));

        services.AddGrpc(grpc =>
        {
            grpc.EnableDetailedErrors = false;
            grpc.Interceptors.Add<GrpcActivityInterceptor>();
            grpc.Interceptors.Add<StorageOutageInterceptor>();
            grpc.Interceptors.Add<ServerFaultInterceptor>();
        });
        services.AddOptions<GrpcServiceOptions>()
            .Configure<LimitsOptions>((grpc, limits) => grpc.MaxReceiveMessageSize = limits.MaxMessageBytes);
        services.AddGrpcReflection();
        AddHealth(services);

        // Our binder replaces Grpc.AspNetCore's (after every AddGrpc* call, which would re-add it) so a
        // request protobuf cannot parse is answered InvalidArgument naming the field, not Unknown.
        services.RemoveAll(typeof(IServiceMethodProvider<>));
        services.AddSingleton(typeof(IServiceMethodProvider<>), typeof(ValidatingServiceMethodProvider<>));
    }

    // The data directory is a hosting setting; the indexes keep their files in a folder of it.
    private static string IndexDirectory(IServiceProvider services) =>
        Path.Combine(Path.GetFullPath(services.GetRequiredService<ChromaServerOptions>().DataDirectory), "indexes");

    // Liveness on "" (the default service name probes ask for), readiness per service (docs: README, "Health").
    private static void AddHealth(IServiceCollection services)
    {
        // One instance: it remembers an outage it logged, so each probe during it is counted, not logged.
        services.AddSingleton<RecordStoreHealthCheck>();
        services.AddGrpcHealthChecks(health =>
            {
                health.Services.Clear();
                health.Services.Map(HealthServiceNames.Liveness, check => check.Tags.Contains(HealthServiceNames.LiveTag));
                health.Services.Map(HealthServiceNames.Ingest, check => check.Tags.Contains(HealthServiceNames.IngestTag));
                health.Services.Map(HealthServiceNames.Query, check => check.Tags.Contains(HealthServiceNames.QueryTag));
            })
            .AddCheck<LivenessHealthCheck>("process", tags: [HealthServiceNames.LiveTag])
            .AddCheck<RecordStoreHealthCheck>("record-store", tags: [HealthServiceNames.IngestTag, HealthServiceNames.QueryTag])
            .AddCheck<StorageSpaceHealthCheck>("storage-space", tags: [HealthServiceNames.IngestTag])
            .AddCheck<IndexStartLoadHealthCheck>("index-start-load", tags: [HealthServiceNames.QueryTag]);
    }

    private static void AddStorage(IServiceCollection services, ChromaServerOptions options)
    {
        // After each commit and delete the store itself calls these, sorted by RecordChangeOrder (index,
        // then scoring): no write path has to remember them. Resolved on the first commit, since both
        // read the store and so can only be built after it. A further feature adds its own with
        // services.AddSingleton<IRecordChangeObserver, TObserver>() (a type registration, so DI
        // disposes it once; a factory returning an existing singleton would dispose that twice).
        services.AddSingleton(sp =>
        {
            var logger = sp.GetRequiredService<ILogger<RecordChangeObservers>>();
            return new RecordChangeObservers(
                () => [sp.GetRequiredService<EmbeddingSetIndexes>(), sp.GetRequiredService<ScoringScheduler>(), .. sp.GetServices<IRecordChangeObserver>()],
                (observer, ex) => StorageLog.ObserverFailed(logger, observer.GetType().Name, ex));
        });
        services.AddSingleton(sp => StorageOpener.Open(
            sp.GetRequiredService<ChromaServerOptions>().DataDirectory,
            sp.GetRequiredService<StorageOptions>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<RecordChangeObservers>(),
            sp.GetRequiredService<StorageSpace>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StorageOpener).FullName!)));
        if (options.Storage?.Provider == StorageProvider.Postgres)
        {
            // Other servers' commits wake this server's indexes and, on the set's scoring replica, its scoring; published
            // passes and waiting requests wake the scoring of the others (LISTEN/NOTIFY; both also poll).
            services.AddHostedService(sp => new PostgresChangeListener(
                sp.GetRequiredService<StorageOptions>().ConnectionString!,
                [sp.GetRequiredService<EmbeddingSetIndexes>(), sp.GetRequiredService<ScoringScheduler>()],
                sp.GetRequiredService<ScoringScheduler>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<PostgresChangeListener>>()));
        }

        services.AddSingleton(sp => sp.GetRequiredService<RecordStorage>().Records);
        services.AddSingleton(sp => sp.GetRequiredService<RecordStorage>().Scores);
        services.AddSingleton(sp => sp.GetRequiredService<RecordStorage>().Coordination);
    }

    private static void AddRecommendations(IServiceCollection services)
    {
        // Dedicated threads for CPU-heavy background work, so it never starves the thread pool that serves requests.
        // On Linux they run below requests' priority (and above index builds'), so by default they may use every core.
        services.AddSingleton(sp => new BackgroundWorkLimiter(
            sp.GetRequiredService<ScoringOptions>().Threads is var threads and > 0 ? threads : BackgroundWorkLimiter.DefaultServerDegreeOfParallelism,
            "chroma-background",
            BackgroundThreadPriority.Scoring));
        // Training-neighbour search for the kNN and boundary signals: an HNSW graph over the fitted training rows,
        // exact below the same threshold as the sets' own indexes.
        services.AddSingleton<NeighborSearchFactory>(sp => HnswTrainingNeighborSearch.CreateFactory(
            sp.GetRequiredService<IndexingOptions>().ExactSearchThreshold, sp.GetRequiredService<BackgroundWorkLimiter>()));
        services.AddSingleton<SetScoringPass>();
        services.AddSingleton(sp => new RankingFiles(
            Path.Combine(Path.GetFullPath(sp.GetRequiredService<ChromaServerOptions>().DataDirectory), "rankings"),
            sp.GetRequiredService<ILogger<ScoringScheduler>>()));
        services.AddSingleton<ScoringScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<ScoringScheduler>());
        services.AddSingleton<RecommendationPages>();
        services.AddSingleton(sp => new PinnedRankings(sp.GetRequiredService<TimeProvider>()));
    }

    private static void AddLabeling(IServiceCollection services)
    {
        // PostgreSQL keeps the reviews in the shared database, so every replica reads the same labels. SQLite keeps them
        // in the record store's file: open it first so it creates the file.
        services.AddSingleton<IReviewStore>(sp =>
        {
            _ = sp.GetRequiredService<IRecordStore>();
            return sp.GetRequiredService<RecordStorage>().Reviews
                ?? SqliteReviewStore.Open(sp.GetRequiredService<ChromaServerOptions>().DataDirectory);
        });
        services.AddSingleton<LabelingService>();
    }

    // Before gRPC reads a call's message (after routing, which the host runs first): the API key from the headers alone,
    // then the size of a single request message from its frame header.
    private static void UseGrpcRequestChecks(WebApplication app, ChromaServerOptions options)
    {
        if (options.ApiKey is not null)
        {
            app.UseMiddleware<GrpcApiKeyMiddleware>();
        }

        app.UseMiddleware<GrpcMessageSizeMiddleware>();
    }

    private static void MapChromaEndpoints(WebApplication app)
    {
        app.MapGrpcService<IngestService>();
        app.MapGrpcService<QueryService>();
        app.MapGrpcService<LabelingGrpcService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
    }

    private static void Listen(
        KestrelServerOptions kestrel, string host, int port, X509Certificate2? certificate, HttpProtocols protocols, Action<ListenOptions> bound)
    {
        // gRPC: h2c needs HTTP/2 only (no HTTP/1.1 upgrade path exists for it). With TLS, HTTP/2 only
        // too: ALPN then never settles on HTTP/1.1, which gRPC cannot use. Studio: HTTP/1.1 only.
        void Configure(ListenOptions listen)
        {
            listen.Protocols = protocols;
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }

            bound(listen);
        }

        if (host == "*")
        {
            kestrel.ListenAnyIP(port, Configure);
        }
        else if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            // Kestrel cannot pick one dynamic port for both loopbacks, so port 0 binds IPv4 only.
            if (port == 0)
            {
                kestrel.Listen(IPAddress.Loopback, port, Configure);
            }
            else
            {
                kestrel.ListenLocalhost(port, Configure);
            }
        }
        else
        {
            kestrel.Listen(IPAddress.Parse(host), port, Configure);
        }
    }
}
