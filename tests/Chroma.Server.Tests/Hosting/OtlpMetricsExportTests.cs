using Chroma.Server.Tool;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace Chroma.Server.Tests.Hosting;

/// <summary>
/// The tool's OTLP metrics export is added only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is configured (the export itself is
/// tested end to end in <c>Chroma.IntegrationTests</c>, <c>OtlpMetricsExportTests</c>).
/// </summary>
[TestFixture]
public sealed class OtlpMetricsExportTests
{
    [Test]
    public void AddWhenConfigured_WithoutTheEndpoint_AddsNoMeterProvider()
    {
        // Arrange
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());

        // Act
        OtlpMetricsExport.AddWhenConfigured(builder);
        using var services = builder.Services.BuildServiceProvider();

        // Assert
        Assert.That(services.GetService<MeterProvider>(), Is.Null);
    }

    [TestCase("http://127.0.0.1:4318")]
    [TestCase("http://collector:4317")]
    public void AddWhenConfigured_WithTheEndpoint_AddsAMeterProvider(string endpoint)
    {
        // Arrange
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Configuration[OtlpMetricsExport.EndpointVariable] = endpoint;

        // Act
        OtlpMetricsExport.AddWhenConfigured(builder);
        using var services = builder.Services.BuildServiceProvider();

        // Assert
        Assert.That(services.GetService<MeterProvider>(), Is.Not.Null);
    }

    [TestCase("collector:4317")]
    [TestCase("notauri")]
    [TestCase("ftp://collector:4317")]
    public void AddWhenConfigured_EndpointNotAnHttpAddress_RefusesToStartNamingTheVariable(string endpoint)
    {
        // Arrange
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Configuration[OtlpMetricsExport.EndpointVariable] = endpoint;

        // Act
        var failure = Assert.Throws<Chroma.Server.Hosting.ChromaServerStartException>(() => OtlpMetricsExport.AddWhenConfigured(builder));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(failure!.Failure, Is.EqualTo(Chroma.Server.Hosting.ChromaServerStartFailure.Setting));
            Assert.That(failure.Message, Does.StartWith($"OTEL_EXPORTER_OTLP_ENDPOINT: '{endpoint}' is not an absolute http:// or https:// address"));
        });
    }

    [Test]
    public void AddWhenConfigured_BlankEndpoint_AddsNoMeterProvider()
    {
        // Arrange: an empty variable (a compose file's `OTEL_EXPORTER_OTLP_ENDPOINT=`) means off.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Configuration[OtlpMetricsExport.EndpointVariable] = " ";

        // Act
        OtlpMetricsExport.AddWhenConfigured(builder);
        using var services = builder.Services.BuildServiceProvider();

        // Assert
        Assert.That(services.GetService<MeterProvider>(), Is.Null);
    }
}
