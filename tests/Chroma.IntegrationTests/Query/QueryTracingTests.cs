using System.Collections.Concurrent;
using System.Diagnostics;

namespace Chroma.IntegrationTests.Query;

[TestFixture]
public sealed class QueryTracingTests
{
    [Test, CancelAfter(30_000)]
    public async Task Query_WithActivityListener_EmitsOneClientSpanPerCallWithErrorStatus(CancellationToken cancellationToken)
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Chroma",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var fixture = await ServerFixture.StartAsync();
        await using var client = new ChromaClient(fixture.Endpoint);

        await client.ListSetsAsync(cancellationToken);
        Assert.ThrowsAsync<ChromaException>(() => client.CountAsync("missing/1/x", cancellationToken: cancellationToken));

        var list = spans.Single(s => s.OperationName == "chroma.ListSets");
        var count = spans.Single(s => s.OperationName == "chroma.CountRecords");
        Assert.Multiple(() =>
        {
            Assert.That(list.Kind, Is.EqualTo(ActivityKind.Client));
            Assert.That(list.Status, Is.EqualTo(ActivityStatusCode.Unset));
            Assert.That(count.Status, Is.EqualTo(ActivityStatusCode.Error));
            Assert.That(count.GetTagItem("chroma.set_id"), Is.EqualTo("missing/1/x"));
        });
    }
}
