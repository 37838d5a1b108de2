using Chroma.Server.Configuration.Internal;
using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Internal;
using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Internal;
using Chroma.Server.Retention;
using Chroma.Server.Retention.Internal;
using Chroma.Server.Security;
using Chroma.Server.Security.Internal;
using Chroma.Server.Services;
using Chroma.Server.Services.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Internal;
using Chroma.Server.Validation;
using Chroma.Server.Validation.Internal;
using Chroma.Server.Web;
using Chroma.Server.Web.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Chroma.Server.Hosting.Internal;

/// <summary>
/// Registers every options type of the server: bound from its own configuration section (standalone) or taken from the
/// embedded caller's <see cref="ChromaServerOptions"/>, each with its one validator, validated once at start
/// (<c>ValidateOnStart</c>). Consumers get their own type injected (the value, or <see cref="IOptions{TOptions}"/>).
/// </summary>
internal static class ChromaOptionsRegistration
{
    /// <summary>
    /// Adds the options; <paramref name="configuration"/> is the <c>Chroma</c> section to bind from, or null to use
    /// <paramref name="options"/> (embedded).
    /// </summary>
    public static IServiceCollection AddChromaOptions(this IServiceCollection services, ChromaServerOptions options, IConfiguration? configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        Add<ChromaServerOptions, ChromaServerOptionsValidator>(services, configuration, null, options);
        Add<LimitsOptions, LimitsOptionsValidator>(services, configuration, LimitsOptions.SectionName, options.Limits);
        Add<IngestOptions, IngestOptionsValidator>(services, configuration, IngestOptions.SectionName, options.Ingest);
        Add<IndexingOptions, IndexingOptionsValidator>(services, configuration, IndexingOptions.SectionName, options.Indexing);
        Add<ScoringOptions, ScoringOptionsValidator>(services, configuration, ScoringOptions.SectionName, options.Scoring);
        Add<RecommendationOptions, RecommendationOptionsValidator>(services, configuration, RecommendationOptions.SectionName, options.Recommendations);
        Add<DriftOptions, DriftOptionsValidator>(services, configuration, DriftOptions.SectionName, options.Drift);
        Add<StorageOptions, StorageOptionsValidator>(services, configuration, StorageOptions.SectionName, options.Storage);
        Add<RetentionOptions, RetentionOptionsValidator>(services, configuration, RetentionOptions.SectionName, options.Retention);
        Add<WebOptions, WebOptionsValidator>(services, configuration, WebOptions.SectionName, options.Web);
        Add<CertificateOptions, CertificateOptionsValidator>(services, configuration, CertificateOptions.SectionName, options.Certificate);
        if (configuration is not null)
        {
            services.AddSingleton<IValidateOptions<ChromaServerOptions>>(new RenamedSettingsValidator(configuration));
            services.AddSingleton<IValidateOptions<ChromaServerOptions>>(new UnknownSettingsValidator(configuration));
            services.AddSingleton<IValidateOptions<ChromaServerOptions>>(new ListItemSettingsValidator(configuration));
        }

        return services;
    }

    private static void Add<TOptions, TValidator>(
        IServiceCollection services, IConfiguration? configuration, string? section, TOptions? instance)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        var builder = services.AddOptions<TOptions>();
        if (configuration is not null)
        {
            builder.Bind(section is null ? configuration : configuration.GetSection(section));
        }
        else
        {
            var path = section is null ? SettingProblems.Root : $"{SettingProblems.Root}:{section}";
            services.AddSingleton<IOptionsFactory<TOptions>>(sp => new EmbeddedOptionsFactory<TOptions>(
                instance,
                path,
                sp.GetServices<IConfigureOptions<TOptions>>(),
                sp.GetServices<IPostConfigureOptions<TOptions>>(),
                sp.GetServices<IValidateOptions<TOptions>>()));
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        builder.ValidateOnStart();

        // Consumers take the value itself (validated at start, never changed while the server runs).
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<TOptions>>().Value);
    }
}
