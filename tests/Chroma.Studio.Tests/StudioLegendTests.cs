using Microsoft.Playwright;

namespace Chroma.Studio.Tests;

/// <summary>
/// The map's colours stay one per category when a column holds more categories than the palette has colours: the
/// first twenty get twenty different colours, the rest share one colour and one legend line that says how many they
/// are (before, the eleventh category silently took the first one's colour).
/// </summary>
[TestFixture]
[NonParallelizable]
[Category("browser")]
public sealed class StudioLegendTests
{
    private const int Palette = 20;

    [Test]
    [CancelAfter(180_000)]
    public async Task Legend_MoreLabelsThanColours_TwentyDistinctColoursThenOneSharedLine()
    {
        // Arrange: 10 digit labels on the training rows, 15 more labels on production records: 25 categories.
        await using var browser = await StudioBrowser.LaunchAsync();
        await using var server = await MnistStudioServer.StartAsync(training: 200, productionDigits: 15, productionLetters: 0);
        var setId = MnistStudioServer.Descriptor.Id;
        var production = (await server.Client.GetRecordsAsync(setId, new RecordQuery { Dataset = "production" })).Records;
        await server.Client.LabelAsync(
            setId, production.Select((r, i) => new RecordLabel { RecordId = r.Id, Label = $"extra-{i:00}" }), "legend-test");
        var categories = 10 + production.Count;

        // Act
        var page = await browser.NewPageAsync();
        await page.GotoAsync(new Uri(server.Studio, "/#map").AbsoluteUri);
        await page.WaitForFunctionAsync($"window.studio && studio.map && studio.map.count === {200 + production.Count} && !studio.map.dirty");
        await page.SelectOptionAsync("#color-by", "label");
        await page.WaitForFunctionAsync("!studio.map.dirty");
        var lines = await page.Locator("#map-legend div").AllTextContentsAsync();
        var swatches = await page.EvaluateAsync<string[]>(
            "[...document.querySelectorAll('#map-legend .swatch')].map(s => getComputedStyle(s).backgroundColor)");
        await StudioBrowser.ScreenshotAsync(page, "map-legend-25-labels");

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(production, Has.Count.EqualTo(15));
            Assert.That(lines, Has.Count.EqualTo(Palette + 1), "twenty categories, then one line for the rest");
            Assert.That(lines[^1], Is.EqualTo($"{categories - Palette} more ({categories - Palette})"), "the five last labels, one record each");
            Assert.That(swatches, Has.Length.EqualTo(lines.Count));
            Assert.That(swatches.Distinct().Count(), Is.EqualTo(swatches.Length), "every legend line has its own colour: " + string.Join(", ", swatches));
        });
    }
}
