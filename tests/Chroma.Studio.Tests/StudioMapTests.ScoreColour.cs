using Microsoft.Playwright;

namespace Chroma.Studio.Tests;

/// <summary>The map's colour by combined score runs on the score's own fixed scale, not from 0 to the largest score.</summary>
public sealed partial class StudioMapTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task Map_ColourByScore_FixedEvidenceScaleSoOneOutlierDoesNotWashOutTheRest()
    {
        // Arrange: a set where one record scores 100 (probe Z, Z14: the scale ran to the largest score, so records at 6
        // were drawn as blue as ordinary ones).
        var page = await OpenMapAsync();
        await SwitchColourAsync(page, "score", "map-by-score-fixed-scale");

        // Act: three points given scores 100, 6 and 0, coloured again.
        var colours = await page.EvaluateAsync<int[]>(@"(() => {
            const s = studio.data.score; s[0] = 100; s[1] = 6; s[2] = 0;
            recolor('score');
            const c = studio.map.colors; return [0, 1, 2].flatMap(i => [c[4 * i], c[4 * i + 1], c[4 * i + 2]]);
          })()");
        var legend = await page.Locator("#map-legend").TextContentAsync();
        await StudioBrowser.ScreenshotAsync(page, "map-score-legend", "#map-legend");

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(colours[3..6], Is.EqualTo(colours[0..3]), "a score of 6 is as red as one of 100");
            Assert.That(colours[3..6], Is.Not.EqualTo(colours[6..9]), "and unlike an ordinary record");
            Assert.That(legend, Does.Contain("3 one in a thousand").And.Contain("≥ 6").And.Contain("0 ordinary"));
        });
    }
}
