using System.Net;
using System.Text;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Web;

/// <summary>A write's body that cannot be used is answered for what it is (security probe F7, F10).</summary>
[TestFixture]
public sealed class StudioRequestBodyTests
{
    [TestCase("{not json", "not valid JSON")]
    [TestCase("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "not valid JSON")]
    [CancelAfter(60_000)]
    public async Task Tag_BodyNotJson_400SayingSoNotThatTheSetIsMissing(string body, string expected, CancellationToken cancellationToken)
    {
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };

        using var response = await http.PostAsync("/api/tag", new StringContent(body, Encoding.UTF8, "application/json"), cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(text, Does.Contain(expected).And.Not.Contain("set: is required"));
        });
    }

    [TestCase("/api/tag", """{"set":"m/1/l","ids":"abc","tags":{"k":"v"}}""", "ids")]
    [TestCase("/api/label", """{"set":"m/1/l","sequences":["one"],"label":"c"}""", "sequences")]
    [TestCase("/api/delete", """{"set":"m/1/l","ids":[1,2]}""", "ids")]
    [TestCase("/api/undo", """{"token":7}""", "token")]
    [TestCase("/api/session", """["key"]""", "the body")]
    [CancelAfter(60_000)]
    public async Task Write_JsonWithAFieldOfTheWrongType_400NamingThatFieldNotThatTheSetIsMissing(string path, string body, string field, CancellationToken cancellationToken)
    {
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };

        using var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"), cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), text);
            Assert.That(text, Does.Contain(field).And.Not.Contain("set: is required").And.Not.Contain("nothing to undo"));
        });
    }

    [TestCase("""{"k":null}""")]
    [TestCase("""{"k":"v","other":null}""")]
    [CancelAfter(60_000)]
    public async Task Tag_TagValueNull_400NamingTheTagNot500(string tags, CancellationToken cancellationToken)
    {
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        var set = Records.Set(dimension: 2, model: "tags");
        var record = Records.Make([1, 2], "production");
        Assert.That((await server.LogAsync(Records.Batch(set, record))).Select(a => a.Error), Has.All.Null);

        var body = $$"""{"set":"{{Records.SetId(set)}}","ids":["{{record.Id}}"],"tags":{{tags}}}""";
        using var response = await http.PostAsync("/api/tag", new StringContent(body, Encoding.UTF8, "application/json"), cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), text);
            Assert.That(text, Does.Contain("tags"));
        });
    }
}
