using Microsoft.Playwright;

namespace Chroma.Studio.Tests;

/// <summary>The map works from the keyboard: Tab reaches it, arrows pan, + zooms, Enter opens a point.</summary>
public sealed partial class StudioMapTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task Map_Keyboard_ArrowsPanPlusZoomsEnterOpensTheNearestPoint()
    {
        var page = await OpenMapAsync();
        await page.FocusAsync("#map-canvas");
        var before = await page.EvaluateAsync<double[]>("[studio.map.center[0], studio.map.center[1], studio.map.k]");

        await page.Keyboard.PressAsync("ArrowLeft");
        var panned = await page.EvaluateAsync<double[]>("[studio.map.center[0], studio.map.center[1], studio.map.k]");
        await page.Keyboard.PressAsync("+");
        var zoomed = await page.EvaluateAsync<double[]>("[studio.map.center[0], studio.map.center[1], studio.map.k]");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForFunctionAsync("!document.getElementById('detail').hidden");
        var focusable = await page.EvaluateAsync<string?>("document.getElementById('map-canvas').getAttribute('aria-label')");

        Assert.Multiple(() =>
        {
            Assert.That(panned[0], Is.Not.EqualTo(before[0]), "an arrow pans the view");
            Assert.That(panned[1], Is.EqualTo(before[1]), "sideways only");
            Assert.That(zoomed[2], Is.GreaterThan(panned[2]), "+ zooms in");
            Assert.That(focusable, Does.Contain("arrow keys"), "the canvas says how to use it");
        });
    }
}
