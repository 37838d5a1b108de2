using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace Chroma.Studio.Tests;

/// <summary>Findings of an outside-in session on Studio (probe N): history after a set switch, the phone's selection bar.</summary>
public sealed partial class StudioMapTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task SetSwitch_WithARecordOpen_BackReturnsToTheFirstSet()
    {
        // Arrange: a second set in the list (the page's list only: its views need not load for the history to show).
        await _server.Client.WaitForRecommendationsAsync(MnistStudioServer.Descriptor.Id, TimeSpan.FromSeconds(60));
        var page = await _browser.NewPageAsync();
        await page.RouteAsync("**/api/sets", async route =>
        {
            var response = await route.FetchAsync();
            var sets = JsonNode.Parse(await response.TextAsync())!.AsArray();
            var copy = sets[0]!.DeepClone();
            copy["setId"] = "other/1/x";
            sets.Add(copy);
            await route.FulfillAsync(new RouteFulfillOptions { Response = response, Body = sets.ToJsonString() });
        });
        await page.GotoAsync(new Uri(_server.Studio, "/#queue").AbsoluteUri);
        await page.WaitForSelectorAsync("#queue-list li.current");
        await page.ClickAsync("#queue-list li.current");
        await page.WaitForFunctionAsync("!document.getElementById('detail').hidden");
        var withRecord = page.Url;

        // Act: another set, then Back (probe N, N1: Back went to the view before, skipping the first set).
        await page.SelectOptionAsync("#set-select", "other/1/x");
        await page.WaitForFunctionAsync("location.hash.includes('other%2F1%2Fx')");
        var switched = page.Url;
        await page.GoBackAsync();
        await page.WaitForFunctionAsync("!location.hash.includes('other%2F1%2Fx')");
        var afterBack = page.Url;

        // Assert
        var first = "set=" + Uri.EscapeDataString(MnistStudioServer.Descriptor.Id);
        Assert.Multiple(() =>
        {
            Assert.That(withRecord, Does.Contain(first).And.Contain("record="));
            Assert.That(switched, Does.Contain("#queue?set=other%2F1%2Fx").And.Not.Contain("record="));
            Assert.That(afterBack, Does.Contain("#queue?" + first), "Back shows the first set's queue again");
        });
    }

    [Test]
    [CancelAfter(180_000)]
    public async Task ViewChoices_InTheUrl_AReloadKeepsThemAndBackRestoresTheMaps()
    {
        // Arrange (probe N, N5: projection, colour and strategy were not in the URL, so a reload or a link fell back to
        // PCA, dataset colours and the balanced queue).
        await _server.Client.WaitForRecommendationsAsync(MnistStudioServer.Descriptor.Id, TimeSpan.FromSeconds(60));
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(new Uri(_server.Studio, "/#map").AbsoluteUri);
        var total = await TotalAsync();
        await page.WaitForFunctionAsync($"window.studio && studio.map && studio.map.count === {total}");

        // Act: UMAP coloured by label on the map; then the queue, out of distribution without diversity; a reload; Back.
        await page.SelectOptionAsync("#projection", "umap");
        await page.SelectOptionAsync("#color-by", "label");
        await page.WaitForFunctionAsync("location.hash.includes('projection=umap') && location.hash.includes('color=label')");
        await page.ClickAsync("nav button[data-view=queue]");
        await page.WaitForSelectorAsync("#queue-list li.current");
        await page.SelectOptionAsync("#strategy", "ood");
        await page.SelectOptionAsync("#diversity", "off");
        await page.WaitForFunctionAsync("location.hash.includes('strategy=ood') && location.hash.includes('diversity=off')");
        var queueUrl = page.Url;
        await page.ReloadAsync();
        await page.WaitForSelectorAsync("#queue-list li.current");
        var afterReload = (await page.InputValueAsync("#strategy"), await page.InputValueAsync("#diversity"));
        await page.GoBackAsync();
        await page.WaitForFunctionAsync($"location.hash.startsWith('#map') && studio.projection === 'umap' && studio.data && studio.map.count === {total}");
        var afterBack = (await page.InputValueAsync("#projection"), await page.InputValueAsync("#color-by"), await page.EvaluateAsync<string>("studio.colorBy"));
        await page.GotoAsync(new Uri(_server.Studio, "/#queue?set=" + Uri.EscapeDataString(MnistStudioServer.Descriptor.Id)).AbsoluteUri);
        await page.WaitForSelectorAsync("#queue-list li.current");
        var plainLink = await page.InputValueAsync("#strategy");

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(queueUrl, Does.Contain("#queue?").And.Contain("strategy=ood").And.Contain("diversity=off").And.Not.Contain("projection="));
            Assert.That(afterReload, Is.EqualTo(("ood", "off")), "a reload keeps the queue's choices");
            Assert.That(afterBack, Is.EqualTo(("umap", "label", "label")), "Back shows the map as it was");
            Assert.That(plainLink, Is.EqualTo("balanced"), "a link without choices shows the defaults");
        });
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Detail_RecordDeletedWithinItsUndoWindow_ShownAsDeletedNotUnreviewed()
    {
        // Arrange (probe N, N10: a record deleted in one tab, its delete still undoable, opened as "unreviewed" in another).
        await _server.Client.WaitForRecommendationsAsync(MnistStudioServer.Descriptor.Id, TimeSpan.FromSeconds(60));
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(new Uri(_server.Studio, "/#queue").AbsoluteUri);
        await page.WaitForSelectorAsync("#queue-list li.current");
        var sequence = await page.EvaluateAsync<long>("studio.queue[studio.queueIndex].sequence");

        // Act: deleted as another tab would, then its link opened here.
        var undo = await page.EvaluateAsync<string>($"postJson('/api/delete', {{ set: studio.setId, sequences: [{sequence}] }}).then(r => r.undo)");
        await page.EvaluateAsync($"showRecord({sequence})");
        await page.WaitForSelectorAsync("#detail-deleted");
        var shown = await page.Locator("#detail-deleted").TextContentAsync();
        await StudioBrowser.ScreenshotAsync(page, "detail-deleted-within-undo");
        await page.EvaluateAsync($"postJson('/api/undo', {{ token: '{undo}' }})");

        // Assert
        Assert.That(shown, Does.StartWith("deleted: gone at").And.Contain("unless the delete is undone"));
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task BoxSelection_OnAPhone_EverySelectionActionIsOnScreen()
    {
        // Arrange: a phone's width (probe N, N2: the selection bar ran to x 850 on a 390 px screen, its actions unreachable).
        var page = await _browser.NewPageAsync(390, 844);
        await page.GotoAsync(new Uri(_server.Studio, "/#map").AbsoluteUri);
        var total = await TotalAsync();
        await page.WaitForFunctionAsync($"window.studio && studio.map && studio.map.count === {total} && studio.map.frameCount > 0 && !studio.map.dirty");

        // Act
        await BoxSelectAsync(page, (0.1f, 0.1f), (0.9f, 0.9f));
        await page.WaitForSelectorAsync("#selection:not([hidden])");
        await StudioBrowser.ScreenshotAsync(page, "phone-selection");
        var rights = await page.EvaluateAsync<double[]>(
            "[...document.querySelectorAll('#selection button, #selection input')].filter(e => e.offsetParent).map(e => e.getBoundingClientRect().right)");

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(rights, Is.Not.Empty);
            Assert.That(rights, Has.All.LessThanOrEqualTo(390), "every control of the selection bar lies within the screen");
        });
    }

    [TestCase(false)]
    [TestCase(true)]
    [CancelAfter(120_000)]
    public async Task Detail_NearestTrainingNeighbourClickedOrEntered_OpensThatRecordNotTheQueueItem(bool keyboard)
    {
        // Arrange: a production record's detail in the queue view, where Enter also opens the current queue item
        // (probe N, N7: the neighbours could not be opened).
        await _server.Client.WaitForRecommendationsAsync(MnistStudioServer.Descriptor.Id, TimeSpan.FromSeconds(60));
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(new Uri(_server.Studio, "/#queue").AbsoluteUri);
        await page.WaitForSelectorAsync("#queue-list li.current");
        await page.ClickAsync("#queue-list li.current");
        await page.WaitForSelectorAsync("#detail:not([hidden]) ol.neighbors li");
        var opened = await page.EvaluateAsync<string>("document.getElementById('detail').dataset.sequence");
        var neighbour = page.Locator("#detail ol.neighbors li").First;
        var neighbourText = await neighbour.TextContentAsync();

        // Act
        if (keyboard)
        {
            await neighbour.FocusAsync();
            await page.Keyboard.PressAsync("Enter");
        }
        else
        {
            await neighbour.ClickAsync();
        }

        await page.WaitForFunctionAsync($"document.getElementById('detail').dataset.sequence !== '{opened}'");
        await page.WaitForTimeoutAsync(500); // a second open (the queue item's) would land by now
        var dataset = await page.Locator("#detail dl dd").First.TextContentAsync();
        var heading = await page.Locator("#detail h3").TextContentAsync();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(dataset, Is.EqualTo("training"));
            Assert.That(neighbourText, Does.Contain(heading!), "the record opened is the neighbour chosen");
        });
    }
}
