using Chroma.Server.Diagnostics;
using Chroma.Server.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Chroma.Server.Tool;

/// <summary>
/// The standalone server's metrics over OTLP (an OpenTelemetry collector, Prometheus with its OTLP receiver, a vendor's
/// endpoint), switched on by the standard variable <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> and configured by the others
/// (<c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, <c>OTEL_EXPORTER_OTLP_HEADERS</c>, <c>OTEL_METRIC_EXPORT_INTERVAL</c>,
/// <c>OTEL_SERVICE_NAME</c>, <c>OTEL_RESOURCE_ATTRIBUTES</c>). Exports the <c>Chroma.Server</c> meter and ASP.NET Core's
/// request and connection meters; the service name is <c>chroma-server</c> unless <c>OTEL_SERVICE_NAME</c> says otherwise.
/// Without the variable nothing is added. The <c>Chroma.Server</c> library adds no exporter: a host that embeds it
/// chooses its own (<see cref="ChromaServerDiagnostics.MeterName"/>).
/// </summary>
internal static class OtlpMetricsExport
{
    /// <summary>The variable that switches the export on: the collector's address, e.g. <c>http://collector:4317</c>.</summary>
    public const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The service name when <c>OTEL_SERVICE_NAME</c> is not set.</summary>
    public const string DefaultServiceName = "chroma-server";

    /// <summary>The meters exported.</summary>
    public static readonly string[] Meters = [ChromaServerDiagnostics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel"];

    /// <summary>
    /// Adds the export to <paramref name="builder"/> when <see cref="EndpointVariable"/> is set in its configuration;
    /// throws <see cref="ChromaServerStartException"/> (a setting) when it is not an absolute http or https address.
    /// </summary>
    public static void AddWhenConfigured(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var endpoint = builder.Configuration[EndpointVariable];
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return;
        }

        // The exporter itself would drop every export to a malformed address without a word: refuse to start instead.
        if (!Uri.TryCreate(endpoint.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ChromaServerStartException(
                ChromaServerStartFailure.Setting,
                $"{EndpointVariable}: '{endpoint}' is not an absolute http:// or https:// address (e.g. http://collector:4317)");
        }

        var named = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_SERVICE_NAME"]);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                if (!named)
                {
                    resource.AddService(DefaultServiceName);
                }
            })
            .WithMetrics(metrics => metrics.AddMeter(Meters).AddOtlpExporter());
    }
}
