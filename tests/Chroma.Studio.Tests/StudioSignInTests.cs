using Microsoft.Playwright;

namespace Chroma.Studio.Tests;

/// <summary>
/// Studio behind the server's API key: without it a browser sees the sign-in page and no endpoint under
/// /api returns data; with it, the app opens on an HttpOnly session cookie and the key is in no URL.
/// </summary>
[TestFixture]
[NonParallelizable]
[Category("browser")]
public sealed class StudioSignInTests
{
    private const string ApiKey = "studio-test-key-7c1d";

    private MnistStudioServer _server = null!;
    private StudioBrowser _browser = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _browser = await StudioBrowser.LaunchAsync();
        _server = await MnistStudioServer.StartAsync(training: 200, productionDigits: 50, productionLetters: 50, apiKey: ApiKey);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Studio_NoKey_ShowsSignInPageAndServesNoData()
    {
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(new Uri(_server.Studio, "/#map").AbsoluteUri);
        await page.WaitForSelectorAsync("#signin-form", new PageWaitForSelectorOptions { State = WaitForSelectorState.Visible });
        await StudioBrowser.ScreenshotAsync(page, "sign-in");

        var statuses = new Dictionary<string, int>();
        foreach (var path in new[] { "/api/sets", "/api/map?set=mnist-pixels/1/input", "/api/queue?set=mnist-pixels/1/input", "/api/record?set=mnist-pixels/1/input&sequence=1", "/api/events" })
        {
            var response = await page.APIRequest.GetAsync(new Uri(_server.Studio, path).AbsoluteUri);
            statuses[path] = response.Status;
        }

        var tag = await page.APIRequest.PostAsync(new Uri(_server.Studio, "/api/tag").AbsoluteUri, new APIRequestContextOptions
        {
            DataObject = new { set = "mnist-pixels/1/input", sequences = new[] { 1L }, tags = new Dictionary<string, string> { ["x"] = "y" } },
        });
        var appVisible = await page.IsVisibleAsync("#app");
        var tagged = await _server.Client.CountAsync(MnistStudioServer.Descriptor.Id, metadata: new Dictionary<string, string> { ["x"] = "y" });
        Assert.Multiple(() =>
        {
            Assert.That(appVisible, Is.False, "the app stays hidden");
            Assert.That(statuses.Values, Is.All.EqualTo(401), string.Join(", ", statuses.Select(s => $"{s.Key}: {s.Value}")));
            Assert.That(tag.Status, Is.EqualTo(401), "no action without a session");
            Assert.That(tagged, Is.Zero);
        });
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Studio_WrongThenRightKey_RejectsThenOpensWithHttpOnlyCookie()
    {
        var page = await _browser.NewPageAsync();
        var urls = new List<string>();
        page.Request += (_, request) => urls.Add(request.Url);
        await page.GotoAsync(_server.Studio.AbsoluteUri);

        await page.FillAsync("#signin-key", "not-the-key");
        await page.ClickAsync("#signin-form button");
        await page.WaitForSelectorAsync("#signin-error:has-text('not accepted')");

        await page.FillAsync("#signin-key", ApiKey);
        await page.ClickAsync("#signin-form button");
        await page.WaitForSelectorAsync("[data-set='mnist-pixels/1/input']");
        await StudioBrowser.ScreenshotAsync(page, "sets");
        var cookies = await page.Context.CookiesAsync();
        var sets = await page.APIRequest.GetAsync(new Uri(_server.Studio, "/api/sets").AbsoluteUri);

        Assert.Multiple(() =>
        {
            Assert.That(cookies.Single(c => c.Name == "chroma_studio").HttpOnly, Is.True);
            Assert.That(cookies.Single(c => c.Name == "chroma_studio").Value, Does.Not.Contain(ApiKey));
            Assert.That(urls, Has.None.Contains(ApiKey), "the key is never in a URL");
            Assert.That(sets.Status, Is.EqualTo(200), "the session cookie opens the API");
        });
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Studio_SignOut_ShowsSignInPageAndTheOldCookieOpensNothing()
    {
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(_server.Studio.AbsoluteUri);
        await page.FillAsync("#signin-key", ApiKey);
        await page.ClickAsync("#signin-form button");
        await page.WaitForSelectorAsync("[data-set='mnist-pixels/1/input']");
        var cookie = (await page.Context.CookiesAsync()).Single(c => c.Name == "chroma_studio").Value;

        await page.ClickAsync("#signout");
        await page.WaitForSelectorAsync("#signin-form", new PageWaitForSelectorOptions { State = WaitForSelectorState.Visible });
        var error = await page.TextContentAsync("#signin-error");
        var cookiesAfter = await page.Context.CookiesAsync();
        var withOldCookie = await page.APIRequest.GetAsync(new Uri(_server.Studio, "/api/sets").AbsoluteUri, new APIRequestContextOptions
        {
            Headers = new Dictionary<string, string> { ["Cookie"] = "chroma_studio=" + cookie },
        });

        Assert.Multiple(() =>
        {
            Assert.That(error, Is.Empty, "a stored sign-out says nothing");
            Assert.That(cookiesAfter.Where(c => c.Name == "chroma_studio"), Is.Empty, "the browser dropped the cookie");
            Assert.That(withOldCookie.Status, Is.EqualTo(401), "a copy of the old cookie opens nothing");
        });
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Studio_SessionEndsWhileOpen_LiveStreamRefusedShowsSignInPageAtOnce()
    {
        // Arrange: a signed-in page, live; then the session ends on the server (as a key change at a restart ends
        // every session).
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(new Uri(_server.Studio, "/#queue").AbsoluteUri);
        await page.FillAsync("#signin-key", ApiKey);
        await page.ClickAsync("#signin-form button");
        await page.WaitForFunctionAsync("document.getElementById('live').classList.contains('on')");
        var cookie = (await page.Context.CookiesAsync()).Single(c => c.Name == "chroma_studio").Value;
        var signedOut = await page.APIRequest.DeleteAsync(new Uri(_server.Studio, "/api/session").AbsoluteUri, new APIRequestContextOptions
        {
            Headers = new Dictionary<string, string> { ["Cookie"] = "chroma_studio=" + cookie },
        });

        // Act: the live stream connects again (as after the restart) and is refused with 401 (probe Z, Z10: the header
        // said "reconnecting" for ever).
        await page.EvaluateAsync("connectEvents()");
        await page.WaitForSelectorAsync("#signin-form", new PageWaitForSelectorOptions { State = WaitForSelectorState.Visible, Timeout = 5_000 });
        var error = await page.TextContentAsync("#signin-error");
        await StudioBrowser.ScreenshotAsync(page, "signin-session-ended");

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(signedOut.Status, Is.EqualTo(200));
            Assert.That(error, Does.Contain("session ended"));
        });
    }
}
