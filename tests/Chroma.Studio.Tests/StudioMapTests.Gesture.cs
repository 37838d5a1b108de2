using Chroma.Server.Tests.Cli;

namespace Chroma.Studio.Tests;

/// <summary>Pan and zoom: every gesture frame shows the picture moved with the view, and the redraw after it is crisp at the same places.</summary>
public sealed partial class StudioMapTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task Map_PanAndZoomGesture_MovedPictureMatchesCrispRedrawAtNewView()
    {
        var page = await OpenMapAsync();

        // What this measures is how a gesture renders, so no live update may land meanwhile: a rescoring the server
        // finishes during the gesture (its background work goes on) recolours the points, and new colours are drawn at
        // once, gesture or not. Live updates stop here; the map is idle with its last full draw shown.
        await page.EvaluateAsync("(() => { if (studio.events) studio.events.close(); studio.events = null; })()");
        await page.WaitForFunctionAsync("!studio.map.dirty && !studio.map.settling && studio.map.shown && studio.map.shown.k > 0");
        var before = PngImage.Read(await StudioBrowser.ScreenshotAsync(page, "map-gesture-before", "#map-wrap"));

        // A gesture held open (no settle): pans and zooms about a point off centre, then two frames out.
        var frames = await page.EvaluateAsync<int[]>(@"async () => {
            const m = studio.map, full = m.fullDraws, moved = m.movedFrames;
            m.settleMs = 1e9;
            for (let i = 0; i < 8; i++) {
              m.panBy(11, -6); m.zoomAt(420, 300, 1.06);
              await new Promise(r => requestAnimationFrame(r));
            }
            await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
            return [m.fullDraws - full, m.movedFrames - moved];
          }");
        var during = PngImage.Read(await StudioBrowser.ScreenshotAsync(page, "map-gesture-during", "#map-wrap"));

        await page.EvaluateAsync("(() => { const m = studio.map; m.settleMs = 150; m.gestureUntil = 0; m.dirty = true; })()");
        await page.WaitForFunctionAsync("!studio.map.settling && !studio.map.dirty");
        var after = PngImage.Read(await StudioBrowser.ScreenshotAsync(page, "map-gesture-after", "#map-wrap"));
        var transform = await page.EvaluateAsync<string>("getComputedStyle(studio.map.canvas).transform");

        Assert.Multiple(() =>
        {
            Assert.That(frames[0], Is.Zero, "no full draw while the gesture goes on");
            Assert.That(frames[1], Is.EqualTo(8), "every gesture frame moved the picture");
            Assert.That(PictureAgreement.Of(after, during, radius: 2), Is.GreaterThan(0.9), "the moved picture has the points where the crisp redraw puts them");
            Assert.That(PictureAgreement.Of(after, before, radius: 2), Is.LessThan(0.6), "and that is not where they were before the gesture");
            Assert.That(transform, Is.EqualTo("none"), "the redraw is the canvas as laid out, not moved");
        });
    }
}
