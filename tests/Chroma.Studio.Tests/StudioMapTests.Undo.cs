using Chroma.Server.Web.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Chroma.Studio.Tests;

/// <summary>Previews, the UMAP projection, and undo of tag and delete, in the browser against the same server.</summary>
public sealed partial class StudioMapTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task RecordDetail_MnistRecord_ShowsInputPreviewAndNeighbourPreviewsWithLabels()
    {
        var page = await OpenMapAsync();

        // A production digit: the detail shows its picture and its nearest training digits with theirs.
        await page.EvaluateAsync("openRecord(studio.data.seq[studio.data.count - 1])");
        await page.WaitForFunctionAsync("document.querySelector('#detail-preview') && document.querySelector('#detail-preview').complete");
        await page.WaitForFunctionAsync("[...document.querySelectorAll('#detail ol.neighbors img')].every(i => i.complete)");
        var width = await page.EvaluateAsync<int>("document.querySelector('#detail-preview').naturalWidth");
        var thumbs = await page.EvaluateAsync<int[]>("[...document.querySelectorAll('#detail ol.neighbors img')].map(i => i.naturalWidth)");
        var labels = await page.EvaluateAsync<string[]>("[...document.querySelectorAll('#detail ol.neighbors li b')].map(b => b.textContent)");
        await StudioBrowser.ScreenshotAsync(page, "record-detail-previews");

        Assert.Multiple(() =>
        {
            Assert.That(width, Is.EqualTo(28), "the 28x28 input image decoded");
            Assert.That(thumbs, Is.Not.Empty.And.All.EqualTo(28), "every neighbour shows its image");
            Assert.That(labels, Is.Not.Empty.And.All.Match("^[0-9]$"), "with its digit label");
        });
    }

    [Test]
    [CancelAfter(180_000)]
    public async Task Map_UmapProjection_DrawsEveryPointAndKeepsDigitsOfOneLabelTogether()
    {
        var page = await OpenMapAsync();
        var total = await TotalAsync();
        var pca = await page.EvaluateAsync<double>(LabelAgreement);

        await page.SelectOptionAsync("#projection", "umap");
        await page.WaitForFunctionAsync($"studio.data.projection === 'UMAP' && studio.map.count === {total} && !studio.map.dirty", null, new PageWaitForFunctionOptions { Timeout = 120_000 });
        var umap = await page.EvaluateAsync<double>(LabelAgreement);
        await page.SelectOptionAsync("#color-by", "label");
        await page.WaitForFunctionAsync("!studio.map.dirty");
        await StudioBrowser.ScreenshotAsync(page, "map-umap-by-label");
        var status = await page.TextContentAsync("#map-status");

        // The picture for the README: the UMAP map with a notMNIST letter's detail and its nearest digits.
        await page.EvaluateAsync("openRecord(studio.data.seq[studio.data.count - 1])");
        await page.WaitForFunctionAsync("document.querySelector('#detail-preview') && [...document.querySelectorAll('#detail img')].every(i => i.complete)");
        await StudioBrowser.ScreenshotAsync(page, "studio-umap-detail");

        TestContext.Out.WriteLine($"training digits whose 5 nearest map neighbours share their label: PCA {pca:F3}, UMAP {umap:F3}");
        Assert.Multiple(() =>
        {
            Assert.That(status, Does.Contain("UMAP"));
            // Seen: PCA 0.37, UMAP 0.78 (1,000 MNIST training digits, raw pixels).
            Assert.That(umap, Is.GreaterThan(0.7), "digits of one label stay together");
            Assert.That(umap, Is.GreaterThan(pca + 0.2), "much closer than on the PCA map");
        });
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task TagAndDelete_UndoneInUi_StoreAsBefore()
    {
        var page = await OpenMapAsync();
        var total = await TotalAsync();
        await BoxSelectAsync(page, (0.45f, 0.3f), (0.7f, 0.7f));
        var selected = await page.EvaluateAsync<int>("studio.selectedCount");

        // Tag, then undo: the key is gone again.
        await page.FillAsync("#tag-text", "undo-test=yes");
        await page.ClickAsync("#tag-selection");
        await page.WaitForSelectorAsync("#toast:has-text('Tagged')");
        var taggedBefore = await CountTaggedAsync();
        await page.ClickAsync("#toast-undo");
        await page.WaitForSelectorAsync("#toast:has-text('Undone: tag')");
        var taggedAfter = await CountTaggedAsync();

        // Delete (confirmed in the dialog), then undo: the points come back and nothing is deleted.
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await page.ClickAsync("#delete-selection");
        await page.WaitForSelectorAsync("#toast:has-text('Deleted')");
        await page.WaitForFunctionAsync($"studio.map.count === {total - selected}");
        await StudioBrowser.ScreenshotAsync(page, "map-delete-pending-undo");
        await page.ClickAsync("#toast-undo");
        await page.WaitForSelectorAsync("#toast:has-text('Undone: delete')");
        await page.WaitForFunctionAsync($"studio.map.count === {total}");
        var pending = _server.Server.Services.GetRequiredService<StudioUndo>().PendingDeletes(
            _server.Server.Services.GetRequiredService<Chroma.Server.Storage.IRecordStore>().FindSet(MnistStudioServer.Descriptor.Id)!);

        Assert.Multiple(async () =>
        {
            Assert.That(selected, Is.GreaterThan(0));
            Assert.That(taggedBefore, Is.EqualTo(selected), "the tag was written");
            Assert.That(taggedAfter, Is.Zero, "and undone");
            Assert.That(pending, Is.Empty, "no delete waits any more");
            Assert.That(await TotalAsync(), Is.EqualTo(total), "every record is still stored");
        });
    }

    // For each training point: the share of its 5 nearest points on the map (training only) with the same label.
    private const string LabelAgreement = """
        (() => {
          const d = studio.data, idx = [];
          for (let i = 0; i < d.count; i++) if (d.datasets[d.dataset[i] - 1] === 'training' && d.label[i]) idx.push(i);
          let same = 0, all = 0;
          for (const i of idx) {
            const near = idx.filter(j => j !== i).map(j => [(d.x[j] - d.x[i]) ** 2 + (d.y[j] - d.y[i]) ** 2, j]).sort((a, b) => a[0] - b[0]).slice(0, 5);
            for (const [, j] of near) { all++; if (d.label[j] === d.label[i]) same++; }
          }
          return same / all;
        })()
        """;

    private Task<long> CountTaggedAsync() =>
        _server.Client.CountAsync(MnistStudioServer.Descriptor.Id, metadata: new Dictionary<string, string> { ["undo-test"] = "yes" });
}
