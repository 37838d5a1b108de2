using System.Net;
using Chroma.Server.Hosting;
using Chroma.Server.Tests.TestSupport;
using Chroma.Server.Web;
using Chroma.Server.Web.Internal;
using Microsoft.AspNetCore.Http;

namespace Chroma.Server.Tests.Web;

/// <summary>DNS rebinding (security probe F2): without an API key Studio answers only to names it knows.</summary>
[TestFixture]
public sealed class StudioHostsTests
{
    [TestCase("127.0.0.1:50052", true)]
    [TestCase("[::1]:50052", true)]
    [TestCase("localhost:50052", true)]
    [TestCase("studio.localhost", true)]
    [TestCase("10.1.2.3", true)]
    [TestCase("studio.example.com", true)]
    [TestCase("attacker.example:50052", false)]
    [TestCase("LOCALHOST", true)]
    public void RefusalOf_NoKey_OnlyAddressesLocalNamesAndAllowedOnes(string host, bool served)
    {
        var hosts = new StudioHosts(new ChromaServerOptions(), new WebOptions { AllowedHosts = "studio.example.com; other.example" });

        var refusal = hosts.RefusalOf(new HostString(host));

        Assert.That(refusal is null, Is.EqualTo(served), refusal);
    }

    [Test]
    public void RefusalOf_WithApiKeyOrStar_EveryName()
    {
        var keyed = new StudioHosts(new ChromaServerOptions { ApiKey = "k" }, new WebOptions());
        var star = new StudioHosts(new ChromaServerOptions(), new WebOptions { AllowedHosts = "*" });

        Assert.Multiple(() =>
        {
            Assert.That(keyed.RefusalOf(new HostString("attacker.example")), Is.Null, "the session cookie belongs to the real origin");
            Assert.That(star.RefusalOf(new HostString("attacker.example")), Is.Null);
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Sets_KeylessServerAskedUnderAnotherName_403NamingTheSetting(CancellationToken cancellationToken)
    {
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };

        using var rebound = new HttpRequestMessage(HttpMethod.Get, "/api/sets");
        rebound.Headers.Host = "attacker.example";
        using var refused = await http.SendAsync(rebound, cancellationToken);
        var body = await refused.Content.ReadAsStringAsync(cancellationToken);
        using var direct = await http.GetAsync("/api/sets", cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(body, Does.Contain("attacker.example").And.Contain("Chroma__Web__AllowedHosts"));
            Assert.That(direct.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the address the server was reached at");
        });
    }
}
