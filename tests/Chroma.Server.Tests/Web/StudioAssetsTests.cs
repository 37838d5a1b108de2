using System.Net;
using System.Text.RegularExpressions;
using Chroma.Server.Tests.TestSupport;
using Chroma.Server.Web.Internal;

namespace Chroma.Server.Tests.Web;

/// <summary>
/// Studio's page is a classic script (map.js) and ES modules (studio.js and what it imports): every file the page loads
/// is embedded and served as JavaScript, under the page's policy and with the same revalidation, and no embedded script
/// is left that the page never loads.
/// </summary>
[TestFixture]
public sealed partial class StudioAssetsTests
{
    [Test]
    [CancelAfter(60_000)]
    public async Task Assets_EveryScriptThePageLoads_ServedAsJavaScriptWithPolicyAndETag(CancellationToken cancellationToken)
    {
        // Arrange
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        var embedded = typeof(StudioAssets).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("Studio/", StringComparison.Ordinal) && n.EndsWith(".js", StringComparison.Ordinal))
            .Select(n => "/assets/" + n["Studio/".Length..])
            .Order(StringComparer.Ordinal)
            .ToArray();

        // Act: the page's scripts, then every module they import, and each again with its ETag.
        var page = await http.GetStringAsync(new Uri("/", UriKind.Relative), cancellationToken);
        var pending = new Queue<string>(ScriptSources().Matches(page).Select(m => m.Groups["src"].Value));
        var served = new SortedDictionary<string, (HttpStatusCode Status, string? Type, string? ETag, string? Cache, string? Policy, HttpStatusCode Again)>(StringComparer.Ordinal);
        while (pending.TryDequeue(out var path))
        {
            if (served.ContainsKey(path))
            {
                continue;
            }

            using var response = await http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            var etag = response.Headers.ETag?.ToString();
            using var again = new HttpRequestMessage(HttpMethod.Get, path);
            again.Headers.TryAddWithoutValidation("If-None-Match", etag);
            using var revalidated = await http.SendAsync(again, cancellationToken);
            served[path] = (response.StatusCode, response.Content.Headers.ContentType?.ToString(), etag,
                response.Headers.CacheControl?.ToString(), response.Headers.TryGetValues("Content-Security-Policy", out var policy) ? policy.Single() : null,
                revalidated.StatusCode);
            foreach (Match import in ModuleImports().Matches(text))
            {
                pending.Enqueue("/assets/" + import.Groups["file"].Value);
            }
        }

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(page, Does.Contain("<script type=\"module\" src=\"/assets/studio.js\"></script>"), "the app's entry is a module");
            Assert.That(served.Keys, Is.EquivalentTo(embedded), "every embedded script is loaded by the page, and every script it loads is embedded");
            Assert.That(
                ModulePreloads().Matches(page).Select(m => m.Groups["href"].Value),
                Is.EquivalentTo(served.Keys.Where(p => p is not "/assets/map.js" and not "/assets/studio.js")),
                "every module studio.js imports, directly or not, is preloaded by the page (one round of fetches, not one per level of imports), and nothing else");
            foreach (var (path, response) in served)
            {
                Assert.That(response.Status, Is.EqualTo(HttpStatusCode.OK), path);
                Assert.That(response.Type, Is.EqualTo("text/javascript; charset=utf-8"), $"{path}: a module needs a JavaScript type");
                Assert.That(response.ETag, Is.Not.Null, path);
                Assert.That(response.Cache, Is.EqualTo("no-cache"), $"{path}: revalidated on every load, as the page's other files");
                Assert.That(response.Policy, Does.Contain("script-src 'self'"), path);
                Assert.That(response.Again, Is.EqualTo(HttpStatusCode.NotModified), $"{path}: its ETag revalidates");
            }
        });
    }

    [GeneratedRegex("<script(?: type=\"module\")? src=\"(?<src>/assets/[^\"]+)\"></script>")]
    private static partial Regex ScriptSources();

    [GeneratedRegex("<link rel=\"modulepreload\" href=\"(?<href>/assets/[^\"]+)\">")]
    private static partial Regex ModulePreloads();

    // Studio's modules import one another by relative name, all from the one folder the server serves them from.
    [GeneratedRegex("""^import (?:[^"\n]* from )?"\./(?<file>[\w.-]+\.js)";$""", RegexOptions.Multiline)]
    private static partial Regex ModuleImports();
}
