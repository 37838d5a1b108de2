using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Chroma.DependencyInjection;

/// <summary>Adds <see cref="ChromaHealthCheck"/> to a host's health checks (<c>services.AddHealthChecks()</c>).</summary>
public static class ChromaHealthChecksBuilderExtensions
{
    /// <summary>The name the check is registered under unless another is given: <c>chroma</c>.</summary>
    public const string DefaultName = "chroma";

    /// <summary>
    /// Adds a check of the <see cref="ChromaClient"/> registered with <c>AddChroma</c>: Healthy while batches are
    /// acknowledged, Degraded while retrying or after drops, Unhealthy (or <paramref name="failureStatus"/>) when no batch
    /// was acknowledged for longer than <paramref name="unhealthyAfter"/> while the stream keeps failing, or at once when
    /// the server refuses the stream in a way retrying cannot fix (a wrong API key: <c>Unauthenticated</c>). One check
    /// instance serves every run, so "dropped since the last check" means what it says.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name. The default value is <see cref="DefaultName"/>.</param>
    /// <param name="unhealthyAfter">How long without an acknowledgement, while failing, is unhealthy. The default value is 2 minutes.</param>
    /// <param name="failureStatus">The status reported for a failure, or <see langword="null"/> (the default) for <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter checks by (e.g. <c>ready</c>), or <see langword="null"/> (the default) for none.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="unhealthyAfter"/> is not positive.</exception>
    public static IHealthChecksBuilder AddChromaHealthCheck(
        this IHealthChecksBuilder builder,
        string name = DefaultName,
        TimeSpan? unhealthyAfter = null,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var after = unhealthyAfter ?? TimeSpan.FromMinutes(2);
        if (after <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(unhealthyAfter), after, $"{nameof(unhealthyAfter)} must be positive.");
        }

        ChromaHealthCheck? instance = null;
        return builder.Add(new HealthCheckRegistration(
            name,
            services => LazyInitializer.EnsureInitialized(
                ref instance,
                () => new ChromaHealthCheck(
                    services.GetService<ChromaClient>()
                        ?? throw new InvalidOperationException("No ChromaClient is registered: call services.AddChroma(...) before AddChromaHealthCheck()."),
                    after,
                    services.GetService<TimeProvider>())),
            failureStatus,
            tags));
    }
}
