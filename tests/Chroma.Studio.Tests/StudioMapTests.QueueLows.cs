using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Chroma.Studio.Tests;

/// <summary>The review queue and the record detail: probe Z's smaller findings (Z1, Z3, Z5, Z7, Z8, Z9, Z12, Z17).</summary>
public sealed partial class StudioMapTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task Detail_NeighbourDrilledInto_StartsAtItsTopAndBackReturnsToTheRecordItCameFrom()
    {
        // Arrange: a queue item's detail, scrolled down to its neighbours.
        var page = await _browser.NewPageAsync(1280, 500);
        await _server.Client.WaitForRecommendationsAsync(MnistStudioServer.Descriptor.Id, TimeSpan.FromSeconds(60));
        await page.GotoAsync(new Uri(_server.Studio, "/#queue").AbsoluteUri);
        await page.WaitForSelectorAsync("#queue-list li.current");
        await page.ClickAsync("#queue-list li.current");
        await page.WaitForSelectorAsync("#detail:not([hidden]) ol.neighbors li");
        var opened = await page.EvaluateAsync<string>("document.getElementById('detail').dataset.sequence");
        var scrolled = await page.EvaluateAsync<double>("(() => { const d = document.getElementById('detail'); d.scrollTop = d.scrollHeight; return d.scrollTop; })()");

        // Act: a neighbour opened (probe Z, Z7 and Z12), then Back.
        await page.Locator("#detail ol.neighbors li").First.ClickAsync();
        await page.WaitForFunctionAsync($"document.getElementById('detail').dataset.sequence !== '{opened}'");
        var top = await page.EvaluateAsync<double>("document.getElementById('detail').scrollTop");
        await page.GoBackAsync();
        await page.WaitForFunctionAsync($"document.getElementById('detail').dataset.sequence === '{opened}'", null, new PageWaitForFunctionOptions { Timeout = 5_000 });
        var view = await page.EvaluateAsync<string>("location.hash");

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(scrolled, Is.GreaterThan(0), "the first detail was scrolled");
            Assert.That(top, Is.Zero, "the neighbour's detail starts at its top");
            Assert.That(view, Does.StartWith("#queue").And.Contain("record=" + opened), "Back returned to the record drilled in from");
        });
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task ReviewQueue_StatusAgeTicksAndUndoCountsOnlyWhatCanBeUndone()
    {
        // Arrange
        var page = await OpenQueueAsync();

        // Act: the age (probe Z, Z8): a list computed 2 s ago, 5.5 s later.
        await page.EvaluateAsync("(() => { studio.queuePage.computedUnixMs = Date.now() - 2000; queueStatus(); })()");
        var before = await page.Locator("#queue-status").TextContentAsync();
        await page.WaitForTimeoutAsync(5_500);
        var after = await page.Locator("#queue-status").TextContentAsync();

        // Act: the undo count (probe Z, Z3): two reviews, the first past its window, then u.
        await page.Locator("#queue-list").FocusAsync();
        await page.Keyboard.PressAsync("r");
        await page.WaitForFunctionAsync("studio.undoStack.length === 1 && !!studio.undoStack[0].token");
        await page.Keyboard.PressAsync("r");
        await page.WaitForFunctionAsync("studio.undoStack.length === 2 && !!studio.undoStack[1].token");
        await page.EvaluateAsync("studio.undoStack[0].expires = 0");
        await page.Keyboard.PressAsync("u");
        await page.WaitForSelectorAsync("#toast:has-text('Undone')");
        var undone = await page.Locator("#toast").TextContentAsync();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(before, Does.Contain("computed 2 s ago"));
            Assert.That(after, Does.Match("computed [3-8] s ago"), "the age ticks (written every 5 s)");
            Assert.That(undone, Does.Not.Contain("more to undo"), "the action past its window is not counted");
        });
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task ReviewQueue_NewRankingOfOneSetThenAnotherSetChosen_NoNewRankingButton()
    {
        // Arrange: a second set (served by rewriting the page's answers: the fixture holds one) whose queue is the
        // first set's.
        await _server.Client.WaitForRecommendationsAsync(MnistStudioServer.Descriptor.Id, TimeSpan.FromSeconds(60));
        var page = await _browser.NewPageAsync();
        const string other = "other/1/x";
        await page.RouteAsync(new Regex("/api/sets$"), async route =>
        {
            var response = await route.FetchAsync();
            var sets = System.Text.Json.Nodes.JsonNode.Parse(await response.TextAsync())!.AsArray();
            var copy = sets[0]!.DeepClone();
            copy["setId"] = other;
            sets.Add(copy);
            await route.FulfillAsync(new RouteFulfillOptions { Response = response, Body = sets.ToJsonString() });
        });
        await page.RouteAsync(new Regex("/api/queue\\?set=other"), async route =>
        {
            var response = await route.FetchAsync(new RouteFetchOptions { Url = route.Request.Url.Replace("set=other%2F1%2Fx", "set=" + Uri.EscapeDataString(MnistStudioServer.Descriptor.Id), StringComparison.Ordinal) });
            await route.FulfillAsync(new RouteFulfillOptions { Response = response });
        });
        await page.GotoAsync(new Uri(_server.Studio, "/#queue").AbsoluteUri);
        await page.WaitForSelectorAsync("#queue-list li.current");

        // Act: a new ranking of the first set is heard (probe Z, Z9), and the other set is chosen before it is shown.
        await page.EvaluateAsync("scheduleQueueRefresh()");
        await page.SelectOptionAsync("#set-select", other);
        await page.WaitForFunctionAsync("studio.setId === 'other/1/x' && !studio.queueLoading && studio.queue.length > 0");
        await page.WaitForTimeoutAsync(1_500);
        var button = await page.Locator("#queue-newer").IsVisibleAsync();

        // Assert
        Assert.That(button, Is.False, "the first set's new ranking does not offer itself on the other set");
    }

    [TestCase("none")]
    [TestCase("training only")]
    [CancelAfter(120_000)]
    public async Task ReviewQueue_EmptyServerOrTrainingOnlySet_SaysWhyTheQueueIsEmpty(string sets)
    {
        // Arrange: the page's answers rewritten to a server without sets (probe Z, Z1) or a set of training records
        // only (Z5).
        var page = await _browser.NewPageAsync();
        await page.RouteAsync(new Regex("/api/sets"), async route =>
        {
            var response = await route.FetchAsync();
            var list = System.Text.Json.Nodes.JsonNode.Parse(await response.TextAsync())!.AsArray();
            if (sets == "none")
            {
                list.Clear();
            }
            else
            {
                list[0]!["datasets"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["name"] = "training", ["count"] = 1000 });
            }

            await route.FulfillAsync(new RouteFulfillOptions { Response = response, Body = list.ToJsonString() });
        });
        await page.RouteAsync(new Regex("/api/queue\\?"), route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 200,
            ContentType = "application/json",
            Body = "{\"computedUnixMs\":1,\"scored\":0,\"total\":0,\"hasMore\":false,\"problem\":null,\"items\":[],\"offset\":0,\"reviewed\":0,\"stale\":false}",
        }));

        // Act
        await page.GotoAsync(new Uri(_server.Studio, "/#queue").AbsoluteUri);
        await page.WaitForSelectorAsync("#queue-empty:not([hidden])");
        var text = await page.Locator("#queue-empty").TextContentAsync();
        await StudioBrowser.ScreenshotAsync(page, "review-queue-empty-" + sets.Replace(' ', '-'));
        await page.ClickAsync("nav button[data-view=sets]");
        var card = sets == "none" ? null : await page.Locator(".card[data-set]").First.TextContentAsync();

        // Assert
        Assert.Multiple(() =>
        {
            if (sets == "none")
            {
                Assert.That(text, Does.StartWith("No embedding sets yet"));
            }
            else
            {
                Assert.That(text, Does.StartWith("No production records in this set yet"));
                Assert.That(card, Does.Contain("no production records yet"), "the card says the same");
                Assert.That(card, Does.Contain("chroma-server export-labels --set " + MnistStudioServer.Descriptor.Id), "and how labels leave (Z17)");
            }
        });
    }
}
