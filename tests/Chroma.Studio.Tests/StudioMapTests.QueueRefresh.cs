using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Chroma.Studio.Tests;

/// <summary>
/// The review queue follows the ranking live: a queue opened while the ranking was stale and empty (the read-back
/// window after a restart) says so, and fills in without a reload when a new ranking is published.
/// </summary>
public sealed partial class StudioMapTests
{
    // What /api/queue answers while a restarted server reads its stored ranking back (an empty, stale page).
    private const string StaleEmptyQueue =
        "{\"computedUnixMs\":0,\"scored\":0,\"total\":0,\"hasMore\":false,\"problem\":null,\"items\":[],\"offset\":0,\"reviewed\":0,\"stale\":true}";

    [Test]
    [CancelAfter(120_000)]
    public async Task ReviewQueue_StaleEmptyThenNewRanking_SaysLoadingAndRefreshesOnceWithoutReload()
    {
        // Arrange: the page opens the queue during the read-back window.
        await _server.Client.WaitForRecommendationsAsync(MnistStudioServer.Descriptor.Id, TimeSpan.FromSeconds(60));
        var page = await _browser.NewPageAsync();
        var queueRequests = new Regex("/api/queue\\?");
        await page.RouteAsync(queueRequests, route => route.FulfillAsync(new RouteFulfillOptions { Status = 200, ContentType = "application/json", Body = StaleEmptyQueue }));
        await page.GotoAsync(new Uri(_server.Studio, "/#queue").AbsoluteUri);
        await page.WaitForSelectorAsync("#queue-empty:not([hidden])");
        await page.WaitForFunctionAsync("document.getElementById('live').classList.contains('on')");
        var emptyText = await page.Locator("#queue-empty").TextContentAsync();
        var status = await page.Locator("#queue-status").TextContentAsync();
        await StudioBrowser.ScreenshotAsync(page, "review-queue-stale");

        // Act: the ranking is back, and a new scoring pass (a record logged) publishes a new revision.
        await page.UnrouteAsync(queueRequests);
        _server.LogProductionLetter(ProductionLetters + 20);
        await _server.Client.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await page.WaitForSelectorAsync("#queue-list li.current", new PageWaitForSelectorOptions { Timeout = 30_000 });
        await page.WaitForTimeoutAsync(2_500); // any further events within the debounce must not load it again
        var refreshes = await page.EvaluateAsync<int>("studio.eventLog.filter(e => e[1] === 'queue refresh').length");
        var refreshedStatus = await page.Locator("#queue-status").TextContentAsync();
        await StudioBrowser.ScreenshotAsync(page, "review-queue-refreshed");

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(emptyText, Does.Contain("not ready yet (stale)").And.Not.Contain("Nothing scored yet"), "a stale empty ranking is on its way, not never scored");
            Assert.That(status, Does.Contain("ranking loading (stale)").And.Not.Contain("never"));
            Assert.That(refreshes, Is.EqualTo(1), "the new ranking loaded the queue once, without a reload");
            Assert.That(refreshedStatus, Does.Contain("computed").And.Not.Contain("stale"));
        });
    }
}
