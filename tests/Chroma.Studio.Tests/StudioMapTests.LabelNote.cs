using Chroma.Server.Labeling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Chroma.Studio.Tests;

/// <summary>
/// A label typed in the queue's field goes out with Enter, with its note; the record's detail shows the note, who
/// labeled it and when (probe Z, Z2 and Z16).
/// </summary>
public sealed partial class StudioMapTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task ReviewQueue_EnterInLabelField_LabelsWithTheNoteAndTheDetailShowsThem()
    {
        // Arrange
        var page = await OpenQueueAsync();
        var item = await page.EvaluateAsync<string>("studio.queue[studio.queueIndex].id");
        var sequence = await page.EvaluateAsync<long>("studio.queue[studio.queueIndex].sequence");

        // Act: the label and a note typed, Enter in the label field.
        await page.FillAsync("#queue-note", "looks like a letter D");
        await page.FillAsync("#queue-label", "5");
        await page.Locator("#queue-label").PressAsync("Enter");
        await page.WaitForSelectorAsync("#toast:has-text('labeled 5')");
        var focused = await page.EvaluateAsync<string>("document.activeElement.id");
        var noteAfter = await page.InputValueAsync("#queue-note");
        var labeling = _server.Server.Services.GetRequiredService<LabelingService>();
        var stored = labeling.GetLabeled(MnistStudioServer.Descriptor.Id, 0, 10_000, includeEmbeddings: false).Records.SingleOrDefault(l => l.Record.Record.Id == item);
        await page.EvaluateAsync($"openRecord({sequence})");
        await page.WaitForSelectorAsync("#detail-note");
        var note = await page.TextContentAsync("#detail-note");
        var by = await page.TextContentAsync("#detail-labeled-by");
        await StudioBrowser.ScreenshotAsync(page, "detail-label-note");

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(stored?.Review.Label, Is.EqualTo("5"), "Enter applied the label");
            Assert.That(stored?.Review.Note, Is.EqualTo("looks like a letter D"), "with its note");
            Assert.That(focused, Is.EqualTo("queue-list"), "the keys are back on the list");
            Assert.That(noteAfter, Is.Empty, "the note went with that label only");
            Assert.That(note, Is.EqualTo("looks like a letter D"));
            Assert.That(by, Does.StartWith("studio, "), "who labeled it, and when");
        });
    }
}
