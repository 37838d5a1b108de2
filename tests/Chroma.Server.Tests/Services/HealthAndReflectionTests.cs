using Chroma.Server.Tests.TestSupport;
using Grpc.Health.V1;

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
}
