using System.Net;
using Chroma.Server.Hosting;
using Chroma.Server.Tests.TestSupport;
using Chroma.Server.Web;
using Microsoft.Extensions.Configuration;

namespace Chroma.Server.Tests.Web;

/// <summary>Studio's own HTTP/1.1 port next to gRPC's HTTP/2 one: settings, binding and separation.</summary>
[TestFixture]
public sealed class StudioHostingTests
{
    [Test]
    public void Bind_ChromaWebSection_ReadsPortAndEnabled()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Chroma:Web:Port"] = "6100",
            ["Chroma:Web:Enabled"] = "false",
        }).Build();

        var options = configuration.GetSection(ChromaServerOptions.SectionName).Get<ChromaServerOptions>()!;

        Assert.Multiple(() =>
        {
            Assert.That(options.Web.Port, Is.EqualTo(6100));
            Assert.That(options.Web.Enabled, Is.False);
        });
    }

    [Test]
    public void ResolvePort_Unset_DefaultUnlessGrpcPicksAFreePort()
    {
        Assert.Multiple(() =>
        {
            Assert.That(new WebOptions().ResolvePort(50051), Is.EqualTo(WebOptions.DefaultPort));
            Assert.That(new WebOptions().ResolvePort(0), Is.Zero);
            Assert.That(new WebOptions { Port = 7000 }.ResolvePort(0), Is.EqualTo(7000));
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task StartAsync_PortZero_ServesStudioOnItsOwnHttp11Port(CancellationToken cancellationToken)
    {
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient();

        var web = server.Server.WebEndpoint!;
        var page = await http.GetAsync(web, cancellationToken);
        var html = await page.Content.ReadAsStringAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(web.Port, Is.Not.EqualTo(server.Server.Port));
            Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(page.Version, Is.EqualTo(HttpVersion.Version11));
            Assert.That(html, Does.Contain("<title>Chroma Studio</title>"));
            Assert.That(page.Headers.GetValues("Content-Security-Policy").Single(), Does.Contain("script-src 'self'"));
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task StartAsync_GrpcPort_DoesNotServeStudio(CancellationToken cancellationToken)
    {
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

        var response = await http.GetAsync(new Uri(server.Server.Endpoint, "/api/sets"), cancellationToken);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task StartAsync_WebDisabled_NoWebEndpointAndGrpcStillServes()
    {
        await using var server = await RunningServer.StartAsync(o => o.Web.Enabled = false);

        var sets = await server.Query.ListSetsAsync(new Protocol.V1.ListSetsRequest(), deadline: DateTime.UtcNow.AddSeconds(30));

        Assert.Multiple(() =>
        {
            Assert.That(server.Server.WebEndpoint, Is.Null);
            Assert.That(sets.Sets, Is.Empty);
        });
    }
}
