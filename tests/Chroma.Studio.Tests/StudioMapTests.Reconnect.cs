namespace Chroma.Studio.Tests;

/// <summary>
/// Back after an outage: when the live stream opens again, the view that showed loads again, so a map left on a
/// failed fetch is drawn (the page used to stay on "Failed to fetch" while its header said "live").
/// </summary>
public sealed partial class StudioMapTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task Map_LiveStreamOpensAfterAnOutage_MapThatFailedToLoadIsDrawnAgain()
    {
        var page = await OpenMapAsync();
        var total = await TotalAsync();

        // The outage as the page saw it: the stream broke, and the map's last load failed (nothing drawn).
        await page.EvaluateAsync("() => { studio.events.dispatchEvent(new Event('error')); studio.data = null; studio.map.setPoints(new Float32Array(0), new Float32Array(0), new Uint8Array(0)); document.getElementById('map-status').textContent = 'Failed to fetch'; }");
        var during = await page.EvaluateAsync<int>("studio.map.count");

        // The stream opens again.
        await page.EvaluateAsync("() => studio.events.dispatchEvent(new Event('open'))");
        await page.WaitForFunctionAsync($"studio.data && studio.map.count === {total} && !studio.map.dirty");

        Assert.Multiple(async () =>
        {
            Assert.That(during, Is.Zero, "the outage emptied the map");
            Assert.That(await page.TextContentAsync("#map-status"), Does.Contain("points"));
            Assert.That(await page.TextContentAsync("#live"), Is.EqualTo("live"));
        });
    }
}
