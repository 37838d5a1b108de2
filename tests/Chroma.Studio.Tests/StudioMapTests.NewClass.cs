using Chroma.Server.Labeling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Chroma.Studio.Tests;

/// <summary>Promoting a label that is none of the set's training classes asks first, naming the classes (probe Z, Z19).</summary>
public sealed partial class StudioMapTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task ReviewQueue_PromoteALabelThatIsNoTrainingClass_AsksFirstAndPromotesNothingWhenDeclined()
    {
        // Arrange: the current item labeled "seven" (the set's classes are the digits).
        var page = await OpenQueueAsync();
        var item = await page.EvaluateAsync<string>("studio.queue[studio.queueIndex].id");
        await page.FillAsync("#queue-label", "seven");
        await page.Locator("#queue-label").PressAsync("Enter");
        await page.WaitForSelectorAsync("#toast:has-text('labeled seven')");
        await page.Keyboard.PressAsync("k"); // back to it
        string? asked = null;
        page.Dialog += async (_, dialog) => { asked = dialog.Message; await dialog.DismissAsync(); };

        // Act: p, and the question declined.
        await page.Keyboard.PressAsync("p");
        await page.WaitForSelectorAsync("#toast:has-text('Not promoted')");
        var toast = await page.Locator("#toast").TextContentAsync();
        var labeling = _server.Server.Services.GetRequiredService<LabelingService>();
        var review = labeling.GetLabeled(MnistStudioServer.Descriptor.Id, 0, 10_000, includeEmbeddings: false).Records.Single(l => l.Record.Record.Id == item).Review;

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(asked, Does.Contain("label 'seven' is not one of the set's 10 training classes (0, 1, 2").And.Contain("promote anyway?"));
            Assert.That(toast, Does.StartWith("Not promoted"));
            Assert.That(review.PromotedRecordId, Is.Null, "nothing was promoted");
        });
    }
}
