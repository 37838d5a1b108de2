using Chroma.Server.Tests.TestSupport;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;

namespace Chroma.Server.Tests.Services;

[TestFixture]
public sealed class HealthAndReflectionTests
{
    [Test, CancelAfter(30_000)]
    public async Task Check_RunningServer_ReportsServing()
    {
        // Arrange
        await using var server = await RunningServer.StartAsync();
        var health = new Health.HealthClient(server.Channel);

        // Act
        var response = await health.CheckAsync(new HealthCheckRequest());

        // Assert
        Assert.That(response.Status, Is.EqualTo(HealthCheckResponse.Types.ServingStatus.Serving));
    }

    [Test, CancelAfter(30_000)]
    public async Task ServerReflection_ListServices_IncludesChromaAndHealth()
    {
        // Arrange
        await using var server = await RunningServer.StartAsync();
        var reflection = new ServerReflection.ServerReflectionClient(server.Channel);
        using var call = reflection.ServerReflectionInfo();

        // Act
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = string.Empty });
        await call.RequestStream.CompleteAsync();
        Assert.That(await call.ResponseStream.MoveNext(CancellationToken.None), Is.True);
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();

        // Assert
        Assert.That(services, Is.SupersetOf(new[] { "chroma.v1.Ingest", "chroma.v1.Query", "grpc.health.v1.Health" }));
    }
}
