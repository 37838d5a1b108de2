using Microsoft.Playwright;

namespace Chroma.Studio.Tests;

/// <summary>
/// An action that changed nothing says so, with no Undo (probe Z): a queue item whose record another client deleted
/// drops out, and a map selection of training records only is not "Labeled".
/// </summary>
public sealed partial class StudioMapTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task ReviewQueue_LabelARecordDeletedMeanwhile_SaysNothingSavedAndDropsIt()
    {
        // Arrange: the current item's record is deleted by another client while the queue shows it (probe Z, Z18).
        var page = await OpenQueueAsync();
        var id = await page.EvaluateAsync<string>("studio.queue[0].id");
        var shown = await page.EvaluateAsync<int>("studio.queue.length");
        await _server.Client.DeleteAsync(MnistStudioServer.Descriptor.Id, [id]).WaitAsync(TimeSpan.FromSeconds(30));

        // Act
        await page.Locator("#queue-list").FocusAsync();
        await page.Keyboard.PressAsync("3");
        await page.WaitForSelectorAsync("#toast:has-text('deleted meanwhile')");
        var toast = await page.Locator("#toast").TextContentAsync();
        var undo = await page.Locator("#toast-undo").CountAsync();
        var ids = await page.EvaluateAsync<string[]>("studio.queue.map(i => i.id)");
        var items = await page.Locator("#queue-list > li").CountAsync();
        var current = await page.EvaluateAsync<string>("document.querySelector('#queue-list li.current').dataset.sequence == studio.queue[studio.queueIndex].sequence ? 'ok' : 'off'");
        await StudioBrowser.ScreenshotAsync(page, "review-queue-label-deleted-record");

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(toast, Does.Contain("nothing saved").And.Not.Contain("labeled 3"));
            Assert.That(undo, Is.Zero, "no Undo of nothing");
            Assert.That(ids, Does.Not.Contain(id), "the deleted record left the queue");
            Assert.That(items, Is.EqualTo(shown - 1), "and its list item with it");
            Assert.That(current, Is.EqualTo("ok"), "the cursor is on the current item");
        });
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task MapSelection_TrainingRecordsOnly_LabelSaysNothingLabeledWithoutUndo()
    {
        // Arrange: a selection of training points only (probe Z, Z13).
        var page = await OpenMapAsync();
        await page.EvaluateAsync("(() => { const d = studio.data, out = []; for (let i = 0; i < d.count && out.length < 40; i++) if (d.datasets[d.dataset[i] - 1] === 'training') out.push(i); select(out, false); })()");

        // Act
        await page.FillAsync("#label-text", "3");
        await page.ClickAsync("#label-selection");
        await page.WaitForSelectorAsync("#toast:not([hidden])");
        var toast = await page.Locator("#toast").TextContentAsync();
        var undo = await page.Locator("#toast-undo").CountAsync();
        await StudioBrowser.ScreenshotAsync(page, "map-label-training-only");

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(toast, Does.StartWith("Nothing labeled").And.Contain("40 training records skipped").And.Contain("production records"));
            Assert.That(undo, Is.Zero, "no Undo of nothing");
        });
    }
}
