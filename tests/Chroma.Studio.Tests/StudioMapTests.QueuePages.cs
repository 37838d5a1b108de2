using Chroma.Server.Labeling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Chroma.Studio.Tests;

/// <summary>The queue pages on, undoes action after action, and the URL says what the page shows.</summary>
public sealed partial class StudioMapTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task ReviewQueue_ShowMore_AppendsTheNextPageWithoutRepeats()
    {
        var page = await OpenQueueAsync();
        var first = await page.EvaluateAsync<int>("studio.queue.length");
        var statusBefore = await page.TextContentAsync("#queue-status");

        await page.ClickAsync("#queue-more");
        await page.WaitForFunctionAsync($"studio.queue.length > {first}");
        var ids = await page.EvaluateAsync<string[]>("studio.queue.map(i => i.id)");
        var shown = await page.Locator("#queue-list > li").CountAsync();
        var statusAfter = await page.TextContentAsync("#queue-status");
        var signalRows = await page.Locator("#queue-list > li:first-child .bars > span.bar").CountAsync();
        await StudioBrowser.ScreenshotAsync(page, "review-queue-more");

        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EqualTo(50), "the first page");
            Assert.That(statusBefore, Does.Contain("showing 50, more below"));
            Assert.That(ids, Has.Length.GreaterThan(50).And.Unique, "the next page follows on, no item twice");
            Assert.That(shown, Is.EqualTo(ids.Length), "every item is drawn");
            Assert.That(statusAfter, Does.Contain($"showing {ids.Length}"));
            Assert.That(signalRows, Is.EqualTo(3), "an item shows its three strongest signals");
        });
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task ReviewQueue_ThreeLabelsThenUndoThrice_EachUndoneNewestFirstAndNoneStored()
    {
        var page = await OpenQueueAsync();
        var ids = await page.EvaluateAsync<string[]>("studio.queue.slice(0, 3).map(i => i.id)");
        var labeling = _server.Server.Services.GetRequiredService<LabelingService>();
        int Labeled() => labeling.GetLabeled(MnistStudioServer.Descriptor.Id, 0, 10_000, includeEmbeddings: false).Records.Count(l => ids.Contains(l.Record.Record.Id));

        // Label three items, then move back to the first: `u` still undoes the newest action first.
        await page.Locator("#queue-list").FocusAsync();
        foreach (var key in new[] { "2", "3", "4" })
        {
            await page.Keyboard.PressAsync(key);
        }

        await page.WaitForFunctionAsync("studio.queue.slice(0, 3).every(i => !!i.undoToken)");
        var labeledBefore = Labeled();
        for (var i = 0; i < 3; i++)
        {
            await page.Keyboard.PressAsync("k");
        }

        var currents = new List<int>();
        for (var i = 2; i >= 0; i--)
        {
            await page.Keyboard.PressAsync("u");
            await page.WaitForFunctionAsync($"studio.queue[{i}].done === undefined && studio.queueIndex === {i}");
            currents.Add(await page.EvaluateAsync<int>("studio.queueIndex"));
        }

        await page.WaitForSelectorAsync("#toast:has-text('Undone: …" + ids[0][^8..] + " is as it was')");
        await page.Keyboard.PressAsync("u");
        await page.WaitForSelectorAsync("#toast:has-text('Nothing to undo')");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Labeled() > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Multiple(() =>
        {
            Assert.That(labeledBefore, Is.EqualTo(3), "the three keys labeled three items");
            Assert.That(currents, Is.EqualTo(new[] { 2, 1, 0 }), "each undo goes back one action and shows its item");
            Assert.That(Labeled(), Is.Zero, "no label is left");
        });
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Url_ViewsAreHistoryEntriesAndARecordLinkOpensItsDetail()
    {
        await _server.Client.WaitForRecommendationsAsync(MnistStudioServer.Descriptor.Id, TimeSpan.FromSeconds(60));
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(new Uri(_server.Studio, "/#sets").AbsoluteUri);
        await page.WaitForSelectorAsync("#view-sets .card");

        await page.GetByRole(AriaRole.Button, new() { Name = "Review queue", Exact = true }).First.ClickAsync();
        await page.WaitForSelectorAsync("#queue-list li.current");
        var queueUrl = page.Url;
        await page.GoBackAsync();
        await page.WaitForFunctionAsync("studio.view === 'sets' && !document.getElementById('view-sets').hidden");
        var afterBack = page.Url;
        await page.GoForwardAsync();
        await page.WaitForFunctionAsync("studio.view === 'queue'");

        // A record's link: the view, the set and the detail open from the URL alone, also after a reload.
        var sequence = await page.EvaluateAsync<long>("studio.queue[1].sequence");
        var link = new Uri(_server.Studio, $"/#queue?set={Uri.EscapeDataString(MnistStudioServer.Descriptor.Id)}&record={sequence}").AbsoluteUri;
        var fresh = await _browser.NewPageAsync();
        await fresh.GotoAsync(link);
        await fresh.WaitForFunctionAsync($"!document.getElementById('detail').hidden && document.getElementById('detail').dataset.sequence === '{sequence}'");
        await fresh.ReloadAsync();
        await fresh.WaitForFunctionAsync($"!document.getElementById('detail').hidden && document.getElementById('detail').dataset.sequence === '{sequence}'");
        var view = await fresh.EvaluateAsync<string>("studio.view");
        await fresh.Keyboard.PressAsync("Escape");
        await fresh.WaitForFunctionAsync("document.getElementById('detail').hidden");
        var closedUrl = fresh.Url;

        Assert.Multiple(() =>
        {
            Assert.That(queueUrl, Does.Contain("#queue?set=" + Uri.EscapeDataString(MnistStudioServer.Descriptor.Id)), "the URL names the view and the set");
            Assert.That(afterBack, Does.Contain("#sets"), "Back returns to the previous view, inside the app");
            Assert.That(view, Is.EqualTo("queue"));
            Assert.That(closedUrl, Does.Not.Contain("record="), "closing the detail drops the record from the URL");
        });
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task NarrowScreen_EveryViewFitsItsWidthAndTheDetailCoversTheQueue()
    {
        await _server.Client.WaitForRecommendationsAsync(MnistStudioServer.Descriptor.Id, TimeSpan.FromSeconds(60));
        var page = await _browser.NewPageAsync(390, 844);
        var widths = new Dictionary<string, int>();
        foreach (var view in new[] { "sets", "map", "queue" })
        {
            await page.GotoAsync(new Uri(_server.Studio, "/#" + view).AbsoluteUri);
            await page.WaitForFunctionAsync($"studio.view === '{view}' && !document.getElementById('view-{view}').hidden");
            if (view == "queue")
            {
                await page.WaitForSelectorAsync("#queue-list li.current");
            }
            else if (view == "map")
            {
                await page.WaitForFunctionAsync("studio.map && studio.map.count > 0 && !studio.map.dirty");
            }

            widths[view] = await page.EvaluateAsync<int>("document.documentElement.scrollWidth");
            await StudioBrowser.ScreenshotAsync(page, "narrow-" + view);
        }

        // Every nav button can be tapped (nothing lies over it), and an item's detail takes the whole width.
        await page.GetByRole(AriaRole.Button, new() { Name = "Review queue", Exact = true }).First.ClickAsync(new() { Trial = true });
        await page.ClickAsync("#queue-list > li:nth-child(2)");
        await page.WaitForFunctionAsync("!document.getElementById('detail').hidden");
        var detailWidth = await page.EvaluateAsync<int>("document.getElementById('detail').getBoundingClientRect().width");
        await StudioBrowser.ScreenshotAsync(page, "narrow-queue-detail");

        Assert.Multiple(() =>
        {
            Assert.That(widths, Has.All.Property("Value").LessThanOrEqualTo(390), "no view is wider than the screen");
            Assert.That(detailWidth, Is.GreaterThanOrEqualTo(380), "the detail covers the queue instead of squeezing it");
        });
    }
}
