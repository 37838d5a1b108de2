using Microsoft.Playwright;

namespace Chroma.Studio.Tests;

/// <summary>The map: probe Z's smaller findings (Z11, Z20, Z21).</summary>
public sealed partial class StudioMapTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task Map_KeyboardSelectsWhatIsInViewAndTheSelectionBarLeavesTheMapInPlace()
    {
        // Arrange
        var page = await OpenMapAsync();
        // Where the map lies in the page's layout (offsetTop, not the viewport, which a scroll of the page moves).
        const string MapPlace = "(() => { const c = document.getElementById('map-canvas'); return [c.offsetTop, c.offsetHeight]; })()";
        var before = await page.EvaluateAsync<double[]>(MapPlace);
        var inView = await page.EvaluateAsync<int>("(() => { const c = document.getElementById('map-canvas'); return studio.map.selectBox(0, 0, c.clientWidth, c.clientHeight).length; })()");

        // Act: keyboard only (probe Z, Z21): Tab to the map, zoom in, s selects what is in view.
        await page.Locator("#map-canvas").FocusAsync();
        await page.Keyboard.PressAsync("+");
        await page.Keyboard.PressAsync("+");
        var zoomedInView = await page.EvaluateAsync<int>("(() => { const c = document.getElementById('map-canvas'); return studio.map.selectBox(0, 0, c.clientWidth, c.clientHeight).length; })()");
        await page.Keyboard.PressAsync("s");
        await page.WaitForSelectorAsync("#selection:not([hidden])");
        var selected = await page.EvaluateAsync<int>("studio.selectedCount");
        var after = await page.EvaluateAsync<double[]>(MapPlace);
        await StudioBrowser.ScreenshotAsync(page, "map-keyboard-selection");

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(zoomedInView, Is.GreaterThan(0).And.LessThan(inView), "zoomed in, some points are out of view");
            Assert.That(selected, Is.EqualTo(zoomedInView), "s selected the points in view");
            Assert.That(after[0], Is.EqualTo(before[0]), "the selection bar did not push the map down (Z20)");
            Assert.That(after[1], Is.EqualTo(before[1]));
        });
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Legend_RightToLeftLabel_ItsCountStaysAfterIt()
    {
        // Arrange: a Hebrew label among the set's labels (probe Z, Z11).
        var page = await OpenMapAsync();

        // Act
        await page.EvaluateAsync("(() => { studio.data.labels[0] = 'שש'; recolor('label'); })()");
        var isolated = await page.Locator("#map-legend bdi", new PageLocatorOptions { HasText = "שש" }).CountAsync();

        // Assert
        Assert.That(isolated, Is.EqualTo(1), "the label is isolated from its count (<bdi>), so it reads \"שש (n)\"");
    }
}
