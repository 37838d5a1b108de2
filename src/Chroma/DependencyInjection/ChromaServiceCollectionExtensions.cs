using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chroma.DependencyInjection;

/// <summary>Registers a <see cref="ChromaClient"/> in a service collection (ASP.NET Core, generic host, workers).</summary>
public static class ChromaServiceCollectionExtensions
{
    /// <summary>The configuration section <see cref="AddChroma(IServiceCollection, IConfiguration)"/> reads by default.</summary>
    public const string DefaultSectionName = "Chroma";

    /// <summary>
    /// Registers one <see cref="ChromaClient"/> (a singleton, disposed, and so drained, with the container), also as
    /// <see cref="IChromaQueryClient"/> (the same instance; register your own first to replace it). Options come
    /// from <paramref name="configure"/> and the options pattern; the host's <see cref="ILoggerFactory"/> and
    /// <see cref="TimeProvider"/> are used unless the options set their own.
    /// </summary>
    public static IServiceCollection AddChroma(this IServiceCollection services, Action<ChromaClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<ChromaClientOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(
            static o =>
            {
                o.Validate();
                return true;
            })
            .ValidateOnStart(); // a bad endpoint or size fails the host's start, not the first request that needs the client
        services.TryAddSingleton(CreateClient);
        // The same instance, so code that only queries can depend on the interface (and a test can swap in a fake).
        services.TryAddSingleton<IChromaQueryClient>(static services => services.GetRequiredService<ChromaClient>());
        return services;
    }

    /// <summary>
    /// Registers a <see cref="ChromaClient"/> whose options are bound from <paramref name="configuration"/> (for example
    /// <c>builder.Configuration.GetSection("Chroma")</c>: <c>Endpoint</c>, <c>ApiKey</c>, <c>QueueCapacity</c>,
    /// <c>FlushInterval</c>, <c>Retry:MaxDelay</c>...). A key one or two letters away from a setting (<c>Endpiont</c>) is
    /// ignored by the binder: the client warns about it when it is created (event 16), naming the setting it resembles.
    /// </summary>
    public static IServiceCollection AddChroma(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddChroma();
        services.Configure<ChromaClientOptions>(configuration);
        services.TryAddSingleton(new ConfigurationNearMisses(configuration));
        return services;
    }

    private static ChromaClient CreateClient(IServiceProvider services)
    {
        var configured = services.GetRequiredService<IOptions<ChromaClientOptions>>().Value;
        // A copy, so filling in the host's logger and clock never changes the options instance others may read.
        var options = configured.Clone();
        options.LoggerFactory ??= services.GetService<ILoggerFactory>();
        if (ReferenceEquals(options.TimeProvider, TimeProvider.System))
        {
            options.TimeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System;
        }

        var client = new ChromaClient(options);
        if (services.GetService<ConfigurationNearMisses>() is { } nearMisses)
        {
            foreach (var (path, meant) in nearMisses.Find())
            {
                client.WarnIgnoredSetting(path, meant);
            }
        }

        return client;
    }
}
