using Chroma.DependencyInjection;
using Chroma.Transport.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Chroma.Tests.Transport;

[TestFixture]
public sealed class EndpointOptionsTests
{
    [Test, CancelAfter(10_000)]
    public async Task AddChroma_EndpointsFromConfiguration_ClientUsesThemInOrder(CancellationToken cancellationToken)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Chroma:Endpoints:0"] = "http://127.0.0.1:6123",
            ["Chroma:Endpoints:1"] = "http://127.0.0.1:6124",
        }).Build();
        var services = new ServiceCollection();
        services.AddChroma(configuration.GetSection("Chroma"));
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<ChromaClient>();

        Assert.Multiple(() =>
        {
            Assert.That(client.Endpoints, Is.EqualTo(new[] { new Uri("http://127.0.0.1:6123"), new Uri("http://127.0.0.1:6124") }));
            Assert.That(client.Endpoint, Is.EqualTo(new Uri("http://127.0.0.1:6123")), "the first until a failover");
        });
    }

    [Test]
    public void Validate_RelativeUriInEndpoints_ThrowsNamingTheEntry()
    {
        var options = new ChromaClientOptions { Endpoints = { new Uri("http://127.0.0.1:1"), new Uri("/relative", UriKind.Relative) } };

        var ex = Assert.Throws<ArgumentException>(options.Validate);

        Assert.That(ex!.Message, Does.Contain("Endpoints[1]"));
    }

    [Test]
    public void Validate_SameUriTwiceInEndpoints_ThrowsNamingTheEntry()
    {
        var options = new ChromaClientOptions { Endpoints = { new Uri("http://127.0.0.1:1"), new Uri("http://127.0.0.1:1") } };

        var ex = Assert.Throws<ArgumentException>(options.Validate);

        Assert.That(ex!.Message, Does.Contain("Endpoints[1]").And.Contain("twice"));
    }

    [Test]
    public void MoveOnFrom_EndpointInUse_NextAndWrapsAround()
    {
        var rotation = new EndpointRotation([new Uri("http://a:1"), new Uri("http://b:1"), new Uri("http://c:1")]);

        var afterFirst = rotation.MoveOnFrom(0);
        var afterSecond = rotation.MoveOnFrom(1);
        var afterThird = rotation.MoveOnFrom(2);

        Assert.That((afterFirst, afterSecond, afterThird), Is.EqualTo((1, 2, 0)));
    }

    [Test]
    public void MoveOnFrom_EndpointAlreadyLeft_StaysOnTheOneInUse()
    {
        var rotation = new EndpointRotation([new Uri("http://a:1"), new Uri("http://b:1"), new Uri("http://c:1")]);
        rotation.MoveOnFrom(0);

        // A second stream or call that also failed on endpoint 0 reports late: the client must not skip endpoint 1.
        var current = rotation.MoveOnFrom(0);

        Assert.That((current, rotation.Current), Is.EqualTo((1, 1)));
    }
}
