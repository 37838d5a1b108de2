using Chroma.Server.Labeling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Chroma.Studio.Tests;

/// <summary>The review queue's strategy switch offers <c>labeling</c>, which keeps the letters out of its top.</summary>
public sealed partial class StudioMapTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task ReviewQueue_LabelingStrategy_QueuesDigitsNotLettersAndKeysStillLabel()
    {
        var page = await OpenQueueAsync();

        // The out-of-distribution queue: the letters (another data set) come first.
        await SwitchStrategyAsync(page, "ood");
        var oodUris = await page.EvaluateAsync<string[]>("studio.queue.slice(0, 20).map(i => i.inputUri)");

        // The labeling queue, chosen like the others: its option's text, then the page's keys work on it.
        var options = await page.Locator("#strategy option").AllTextContentsAsync();
        var response = await SwitchStrategyAsync(page, "labeling");
        await page.WaitForSelectorAsync("#queue-list li.current");
        var labelingUris = await page.EvaluateAsync<string[]>("studio.queue.slice(0, 20).map(i => i.inputUri)");
        var first = await page.EvaluateAsync<string>("studio.queue[0].id");
        var reasons = await page.Locator("#queue-list li.current .reasons li").CountAsync();

        await page.Locator("#queue-list").FocusAsync();
        await page.Keyboard.PressAsync("7");
        await page.WaitForFunctionAsync("studio.queue[0].done === 'labeled 7' && studio.queueIndex === 1");
        var labeling = _server.Server.Services.GetRequiredService<LabelingService>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        LabeledRecord? stored = null;
        while (stored is null && DateTime.UtcNow < deadline)
        {
            stored = labeling.GetLabeled(MnistStudioServer.Descriptor.Id, 0, 10_000, includeEmbeddings: false).Records.FirstOrDefault(l => l.Record.Record.Id == first);
            await Task.Delay(50);
        }

        static int Letters(string[] uris) => uris.Count(u => u.StartsWith("notmnist/", StringComparison.Ordinal));
        TestContext.Out.WriteLine($"letters in the top 20: ood {Letters(oodUris)}, labeling {Letters(labelingUris)}");
        Assert.Multiple(() =>
        {
            Assert.That(options, Does.Contain("labeling"), "the switch lists the strategy by its name");
            Assert.That(response.Status, Is.EqualTo(200));
            Assert.That(labelingUris, Has.Length.EqualTo(20));
            Assert.That(Letters(oodUris), Is.GreaterThanOrEqualTo(15), "the review strategy surfaces the letters");
            Assert.That(Letters(labelingUris), Is.LessThanOrEqualTo(2), "the labeling strategy queues digits, not letters");
            Assert.That(reasons, Is.GreaterThan(0), "the item says why it is ranked");
            Assert.That(stored?.Review.Label, Is.EqualTo("7"), "the digit key labels the labeling queue's item");
        });
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task ReviewQueue_LabelThenUndoKey_TheLabelIsGoneNotOnlyReopened()
    {
        var page = await OpenQueueAsync();
        var first = await page.EvaluateAsync<string>("studio.queue[0].id");
        var labeling = _server.Server.Services.GetRequiredService<LabelingService>();
        bool Labeled() => labeling.GetLabeled(MnistStudioServer.Descriptor.Id, 0, 10_000, includeEmbeddings: false).Records.Any(l => l.Record.Record.Id == first);

        // Label with a digit key; once the write has answered (its undo token is back), undo with `u`.
        await page.Locator("#queue-list").FocusAsync();
        await page.Keyboard.PressAsync("5");
        await page.WaitForFunctionAsync("!!studio.queue[0].undoToken");
        var labeledBefore = Labeled();
        await page.Keyboard.PressAsync("u");
        await page.WaitForFunctionAsync("studio.queue[0].done === undefined && studio.queueIndex === 0");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Labeled() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        var review = labeling.Reviews(_server.Server.Services.GetRequiredService<Chroma.Server.Storage.IRecordStore>().FindSet(MnistStudioServer.Descriptor.Id)!, [.. (await page.EvaluateAsync<long[]>("[studio.queue[0].sequence]"))]);
        Assert.Multiple(() =>
        {
            Assert.That(labeledBefore, Is.True, "the key labeled the item");
            Assert.That(Labeled(), Is.False, "undo removed the label, not only the review state");
            Assert.That(review, Is.Empty, "the record has no review again");
        });
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task ReviewQueue_ActionButtons_DismissAndUndoWithTheMouse()
    {
        var page = await OpenQueueAsync();
        var first = await page.EvaluateAsync<string>("studio.queue[0].id");

        await page.GetByRole(AriaRole.Button, new() { Name = "Dismiss", Exact = true }).ClickAsync();
        await page.WaitForFunctionAsync("studio.queue[0].done === 'dismissed' && !!studio.queue[0].undoToken && studio.queueIndex === 1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Undo the last action", Exact = true }).ClickAsync();
        await page.WaitForFunctionAsync("studio.queue[0].done === undefined && studio.queueIndex === 0");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next item", Exact = true }).ClickAsync();
        var index = await page.EvaluateAsync<int>("studio.queueIndex");

        var set = _server.Server.Services.GetRequiredService<Chroma.Server.Storage.IRecordStore>().FindSet(MnistStudioServer.Descriptor.Id)!;
        var sequence = await page.EvaluateAsync<long>("studio.queue[0].sequence");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var labeling = _server.Server.Services.GetRequiredService<LabelingService>();
        while (labeling.Reviews(set, [sequence]).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Multiple(() =>
        {
            Assert.That(labeling.Reviews(set, [sequence]), Is.Empty, $"{first}: dismissed, then undone by the buttons");
            Assert.That(index, Is.EqualTo(1), "the arrow button moves to the next item");
        });
    }

    // Chooses the strategy in the switch and waits until the queue shows the page the server answered.
    private static async Task<IResponse> SwitchStrategyAsync(IPage page, string strategy)
    {
        var loaded = page.WaitForResponseAsync(r => r.Url.Contains("/api/queue?", StringComparison.Ordinal) && r.Url.Contains("strategy=" + strategy, StringComparison.Ordinal));
        await page.SelectOptionAsync("#strategy", strategy);
        var response = await loaded;
        var body = await response.JsonAsync();
        var firstId = body?.GetProperty("items")[0].GetProperty("id").GetString();
        await page.WaitForFunctionAsync("id => studio.queue.length > 0 && studio.queue[0].id === id", firstId);
        return response;
    }
}
