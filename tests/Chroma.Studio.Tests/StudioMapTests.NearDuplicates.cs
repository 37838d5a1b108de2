using System.Text.Json.Nodes;
using Chroma.Server.Labeling;
using Chroma.Server.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Chroma.Studio.Tests;

/// <summary>
/// An entry that collapsed near-duplicates lists them, and with "with near-duplicates" ticked a dismissal takes them all,
/// undone together (probe Z, Z15: each dismissal brought the next copy up).
/// </summary>
public sealed partial class StudioMapTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task ReviewQueue_EntryWithNearDuplicates_ListsThemAndDismissesAllWhenTicked()
    {
        // Arrange: the first entry carries three records further down as its near-duplicates (the ranking collapses
        // copies so; this set has none, so the page's answer is rewritten).
        await _server.Client.WaitForRecommendationsAsync(MnistStudioServer.Descriptor.Id, TimeSpan.FromSeconds(60));
        var page = await _browser.NewPageAsync();
        string[] copies = [];
        await page.RouteAsync(new System.Text.RegularExpressions.Regex("/api/queue\\?"), async route =>
        {
            var response = await route.FetchAsync();
            var body = JsonNode.Parse(await response.TextAsync())!;
            var items = body["items"]!.AsArray();
            if (items.Count > 10 && copies.Length == 0)
            {
                copies = [.. items.Skip(items.Count - 3).Select(i => i!["id"]!.GetValue<string>())];
            }

            foreach (var gone in items.Where(i => copies.Contains(i!["id"]!.GetValue<string>())).ToList())
            {
                items.Remove(gone);
            }

            if (items.Count > 0)
            {
                items[0]!["duplicateIds"] = new JsonArray([.. copies.Select(c => (JsonNode)JsonValue.Create(c))]);
                items[0]!["duplicateCount"] = copies.Length;
            }

            await route.FulfillAsync(new RouteFulfillOptions { Response = response, Body = body.ToJsonString() });
        });
        await page.GotoAsync(new Uri(_server.Studio, "/#queue").AbsoluteUri);
        await page.WaitForSelectorAsync("#queue-list li.current");
        var first = await page.EvaluateAsync<string>("studio.queue[0].id");

        // Act: the +3 opens the list of copies; then dismiss with near-duplicates ticked, and undo.
        await page.ClickAsync("#queue-list li.current .dupes");
        var listed = await page.Locator("#queue-list li.current .copies li").AllTextContentsAsync();
        await StudioBrowser.ScreenshotAsync(page, "review-queue-near-duplicates");
        await page.CheckAsync("#queue-dupes");
        await page.Locator("#queue-list").FocusAsync();
        await page.Keyboard.PressAsync("d");
        await page.WaitForSelectorAsync("#toast:has-text('dismissed')");
        var toast = await page.Locator("#toast").TextContentAsync();
        var set = _server.Server.Services.GetRequiredService<IRecordStore>().FindSet(MnistStudioServer.Descriptor.Id)!;
        var labeling = _server.Server.Services.GetRequiredService<LabelingService>();
        var sequences = _server.Server.Services.GetRequiredService<IRecordStore>().GetRecordsByIds(set, [first, .. copies], includeEmbeddings: false).Select(r => r.Sequence).ToArray();
        var dismissed = labeling.Reviews(set, sequences).Values.Count(r => r.State == Chroma.Server.Labeling.ReviewState.Dismissed);
        await page.Keyboard.PressAsync("u");
        await page.WaitForSelectorAsync("#toast:has-text('Undone')");
        var afterUndo = labeling.Reviews(set, sequences).Values.Count(r => r.State == Chroma.Server.Labeling.ReviewState.Dismissed);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(listed, Is.EqualTo(copies), "the +3 lists the copies");
            Assert.That(toast, Does.Contain("dismissed with 3 near-duplicates"));
            Assert.That(dismissed, Is.EqualTo(4), "the entry and its three copies are dismissed");
            Assert.That(afterUndo, Is.Zero, "and undone together");
        });
    }
}
