using Chroma.Server.Labeling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Chroma.Studio.Tests;

/// <summary>Label-and-advance is optimistic: when the label cannot be stored the item comes back and the page says why.</summary>
public sealed partial class StudioMapTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task ReviewQueue_LabelRequestFails_ItemRestoredAndErrorShown()
    {
        var page = await OpenQueueAsync();
        var id = await page.EvaluateAsync<string>("studio.queue[studio.queueIndex].id");
        var index = await page.EvaluateAsync<int>("studio.queueIndex");

        // The label request fails as it would with the store out of service; the server never sees it.
        var refused = 0;
        await page.RouteAsync("**/api/label", route =>
        {
            Interlocked.Increment(ref refused);
            return route.FulfillAsync(new RouteFulfillOptions { Status = 503, ContentType = "application/json", Body = "{\"error\":\"the store is out of service\"}" });
        });
        var advanced = await page.EvaluateAsync<int>(
            "(() => { document.dispatchEvent(new KeyboardEvent('keydown', { key: '7', bubbles: true })); return studio.queueIndex; })()");
        await page.WaitForSelectorAsync("#toast:has-text('Failed')");
        var toast = await page.Locator("#toast").TextContentAsync();
        var current = await page.EvaluateAsync<string>("studio.queue[studio.queueIndex].id");
        var done = await page.EvaluateAsync<bool>("!!studio.queue.find(i => i.id === '" + id + "').done");
        var shownDone = await page.Locator($"#queue-list li[data-sequence]:nth-child({index + 1})").GetAttributeAsync("class");
        await StudioBrowser.ScreenshotAsync(page, "review-queue-label-failed");
        var labeling = _server.Server.Services.GetRequiredService<LabelingService>();
        var stored = labeling.GetLabeled(MnistStudioServer.Descriptor.Id, 0, 10_000, includeEmbeddings: false).Records
            .Any(l => l.Record.Record.Id == id && l.Review.Label == "7");

        Assert.Multiple(() =>
        {
            Assert.That(advanced, Is.EqualTo(index + 1), "the key press moved to the next item at once");
            Assert.That(refused, Is.EqualTo(1), "one label request went out");
            Assert.That(toast, Does.Contain("the store is out of service").And.Contain("…" + id[^8..]).And.Not.Contain("null"), "the error and the item are named (and no undo for a label)");
            Assert.That(toast, Does.Not.Contain(id), "by the end of its id (N9: a whole UUID wrapped a phone's toast onto five lines)");
            Assert.That(current, Is.EqualTo(id), "the failed item is current again");
            Assert.That(done, Is.False, "and no longer marked done");
            Assert.That(shownDone, Does.Contain("current").And.Not.Contain("done"), "on screen too");
            Assert.That(stored, Is.False, "nothing was stored");
        });
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task ReviewQueue_ServerUnreachable_ToastSaysSoNotTheBrowsersText()
    {
        var page = await OpenQueueAsync();

        // The connection fails as it does with the server stopped: fetch itself rejects.
        await page.RouteAsync("**/api/review", route => route.AbortAsync("connectionrefused"));
        await page.Locator("#queue-list").FocusAsync();
        await page.Keyboard.PressAsync("d");
        await page.WaitForSelectorAsync("#toast:has-text('Failed')");
        var toast = await page.Locator("#toast").TextContentAsync();

        Assert.That(toast, Does.Contain("the server cannot be reached").And.Contain("nothing was saved").And.Not.Contain("Failed to fetch"));
    }
}
