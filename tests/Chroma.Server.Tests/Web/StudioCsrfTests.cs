using System.Net;
using System.Net.Http.Json;
using System.Text;
using Chroma.Protocol.V1;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Web;

/// <summary>
/// Cross-site request forgery (security probe F1): a write reaches Studio only from its own page, with a JSON body; an
/// HTML form or a fetch from another origin (another port of the same host included) is refused and changes nothing.
/// </summary>
[TestFixture]
public sealed class StudioCsrfTests
{
    private static readonly EmbeddingSetDescriptor Descriptor = new() { Model = "c", ModelVersion = "1", Layer = "l", Dimension = 4 };

    [Test]
    [CancelAfter(60_000)]
    public async Task Tag_FromAFormOrAnotherOrigin_403AndNothingTaggedButTheOwnPageAndScriptsWrite(CancellationToken cancellationToken)
    {
        // Arrange: a server without an API key (the default: no cookie stands between a forged request and the data).
        await using var server = await RunningServer.StartAsync();
        var batch = Records.Batch(Descriptor, [Records.Make([1, 0, 0, 0], "production")]);
        await server.LogAsync(batch);
        var id = batch.Records[0].Id;
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        var own = server.Server.WebEndpoint!.GetLeftPart(UriPartial.Authority);
        var body = System.Text.Json.JsonSerializer.Serialize(new { set = "c/1/l", ids = new[] { id }, tags = new { forged = "yes" } });

        // Act
        var form = await PostAsync(http, body, "text/plain", origin: "http://evil.example", site: "cross-site", cancellationToken);
        var otherPort = await PostAsync(http, body, "application/json", origin: "http://127.0.0.1:8099", site: "same-site", cancellationToken);
        var noPreflight = await PostAsync(http, body, "text/plain", origin: null, site: null, cancellationToken);
        var afterRefusals = await TagsAsync(server, cancellationToken);
        var ownPage = await PostAsync(http, body, "application/json", origin: own, site: "same-origin", cancellationToken);
        var script = await http.PostAsJsonAsync("/api/tag", new { set = "c/1/l", ids = new[] { id }, tags = new { script = "yes" } }, cancellationToken);
        var afterWrites = await TagsAsync(server, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(form.Status, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(form.Body, Does.Contain("another site or origin"));
            Assert.That(otherPort.Status, Is.EqualTo(HttpStatusCode.Forbidden), "another port of the same host is another origin");
            Assert.That(noPreflight.Status, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(noPreflight.Body, Does.Contain("must be JSON"));
            Assert.That(afterRefusals, Does.Not.ContainKey("forged"), "no refused write changed the record");
            Assert.That(ownPage.Status, Is.EqualTo(HttpStatusCode.OK), ownPage.Body);
            Assert.That(script.StatusCode, Is.EqualTo(HttpStatusCode.OK), "a tool without a browser sends JSON and no origin");
            Assert.That(afterWrites, Does.ContainKey("forged").And.ContainKey("script"));
        });
    }

    private static async Task<(HttpStatusCode Status, string Body)> PostAsync(
        HttpClient http, string body, string contentType, string? origin, string? site, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/tag") { Content = new StringContent(body, Encoding.UTF8, contentType) };
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        if (site is not null)
        {
            request.Headers.Add("Sec-Fetch-Site", site);
        }

        using var response = await http.SendAsync(request, cancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    private static async Task<IDictionary<string, string>> TagsAsync(RunningServer server, CancellationToken cancellationToken)
    {
        var page = await server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = "c/1/l", PageSize = 10 }, cancellationToken: cancellationToken);
        return page.Records.Single().Record.Metadata;
    }
}
