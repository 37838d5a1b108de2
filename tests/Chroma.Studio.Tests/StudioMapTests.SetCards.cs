using System.Text.Json;
using Microsoft.Playwright;

namespace Chroma.Studio.Tests;

/// <summary>
/// The Sets view with odd values: a drift estimate below 0, a chart whose values are all tiny, a 128-character model
/// name; and a link to a set this server does not hold.
/// </summary>
public sealed partial class StudioMapTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task Sets_NegativeDriftAndLongName_ShownAsBelowNoiseWithReadableAxesAndNavOnOneLine()
    {
        // Arrange: /api/sets answers one set as the server would for a 128-character model name whose last MMD²
        // estimate fell below 0 (the estimate is unbiased).
        var setId = new string('y', 128) + "/1.0/fc2";
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var sets = JsonSerializer.Serialize(new[]
        {
            new
            {
                setId, model = new string('y', 128), modelVersion = "1.0", layer = "fc2", dimension = 64, metric = "cosine", total = 30,
                datasets = new[] { new { name = "training", count = 20 }, new { name = "production", count = 10 } },
                createdUnixMs = now - 60_000, updatedUnixMs = now,
                drift = new[]
                {
                    new { computedUnixMs = now - 60_000, mmd2 = -0.004, pValue = 0.537, productionSample = 10 },
                    new { computedUnixMs = now, mmd2 = -0.009, pValue = 0.667, productionSample = 10 },
                },
                scoring = new { computedUnixMs = now, scored = 10, pending = 0, revision = 3, problem = (string?)null, stale = false },
            },
        });
        var page = await _browser.NewPageAsync(1400, 800);
        await page.RouteAsync("**/api/sets", route => route.FulfillAsync(new RouteFulfillOptions { Status = 200, ContentType = "application/json", Body = sets }));

        // Act
        await page.GotoAsync(new Uri(_server.Studio, "/#sets").AbsoluteUri);
        await page.WaitForSelectorAsync(".card[data-set] svg.drift");
        var driftText = await page.Locator(".card .drift-text").TextContentAsync();
        var axis = await page.Locator(".card svg.drift text").AllTextContentsAsync();
        var select = (await page.Locator("#set-select").BoundingBoxAsync())!;
        var nav = (await page.Locator("header nav").BoundingBoxAsync())!;
        var title = await page.Locator("#set-select").GetAttributeAsync("title");
        await StudioBrowser.ScreenshotAsync(page, "sets-odd-values");

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(driftText, Does.Contain("Drift MMD² ≈ 0 (below noise)").And.Not.Contain("-0.009").And.Not.Contain("−0.009"));
            Assert.That(axis[0], Is.Not.EqualTo("0"), "the top of the y-axis is not labelled 0 like its bottom");
            Assert.That(axis[1], Is.EqualTo("0"));
            Assert.That(axis[2], Does.Match(@"\d\d:\d\d( [AP]M)? [A-Z]+"), "chart times name their time zone");
            Assert.That(nav.Y, Is.LessThan(select.Y + select.Height), "the nav stays on the header's line");
            Assert.That(select.Width, Is.LessThan(500), "the set selector is cut, not stretched to the name");
            Assert.That(title, Is.EqualTo(setId), "the whole id is its tooltip");
        });
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Link_SetNotOnServer_SaysSoWithLinkBackToSets()
    {
        // Arrange
        var page = await _browser.NewPageAsync();

        // Act
        await page.GotoAsync(new Uri(_server.Studio, "/#queue?set=nope%2F1%2Fx").AbsoluteUri);
        await page.WaitForSelectorAsync("#missing-set:not([hidden])");
        var message = await page.Locator("#missing-set").TextContentAsync();
        var queueShown = await page.Locator("#view-queue").IsVisibleAsync();
        await StudioBrowser.ScreenshotAsync(page, "link-missing-set");
        await page.ClickAsync("#missing-set a:has-text('Back to Sets')");
        await page.WaitForSelectorAsync(".card[data-set]");
        var messageAfter = await page.Locator("#missing-set").IsVisibleAsync();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(message, Does.Contain("No embedding set \u2018nope/1/x\u2019 on this server"));
            Assert.That(queueShown, Is.False, "no empty queue of another set under the message");
            Assert.That(messageAfter, Is.False, "the Sets view replaces the message");
        });
    }
}
