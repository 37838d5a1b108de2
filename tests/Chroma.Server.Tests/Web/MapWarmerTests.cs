using Chroma.Protocol.V1;
using Chroma.Server.Services.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;
using Chroma.Server.Web.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Chroma.Server.Tests.Web;

/// <summary>Studio keeps large sets' PCA maps projected in the background, so the first page finds them ready.</summary>
[TestFixture]
public sealed class MapWarmerTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task Warmer_LargeAndSmallSet_ProjectsOnlyTheLargeOneBeforeAnyPageAsks(CancellationToken cancellationToken)
    {
        await using var server = await RunningServer.StartAsync();
        var large = new EmbeddingSetDescriptor { Model = "large", ModelVersion = "1", Layer = "l", Dimension = 4 };
        var small = new EmbeddingSetDescriptor { Model = "small", ModelVersion = "1", Layer = "l", Dimension = 4 };
        var total = (int)MapWarmer.MinimumRecords + 500;
        for (var first = 0; first < total; first += 5_000)
        {
            var acks = await server.LogAsync(Batch(large, first, Math.Min(5_000, total - first)));
            Assert.That(acks.Select(a => a.Error?.Message), Has.All.Null);
        }

        await server.LogAsync(Batch(small, 0, 50));
        var warmer = server.Server.Services.GetRequiredService<MapWarmer>();
        var maps = server.Server.Services.GetRequiredService<MapProjections>();
        var store = server.Server.Services.GetRequiredService<IRecordStore>();
        var largeSet = store.ListSets().Single(s => s.Set.Descriptor.Model == "large");
        var smallSet = store.ListSets().Single(s => s.Set.Descriptor.Model == "small");
        var last = store.GetRecords(largeSet.Set, new RecordQuery(RecordSelection.All, 0, total, IncludeEmbeddings: false)).Records.Max(r => r.Sequence);

        // The warmer counts a pass after the projection it made is visible: wait for both.
        while (maps.ProjectedThrough(largeSet.Set, MapProjectionKind.Pca) < last || warmer.Warmed < 1)
        {
            await Task.Delay(100, cancellationToken);
        }

        Assert.Multiple(() =>
        {
            Assert.That(warmer.Warmed, Is.GreaterThanOrEqualTo(1));
            Assert.That(maps.ProjectedThrough(largeSet.Set, MapProjectionKind.Pca), Is.EqualTo(last), "every record of the large set projected");
            Assert.That(maps.ProjectedThrough(smallSet.Set, MapProjectionKind.Pca), Is.Zero, "a small set is left to the page");
            Assert.That(maps.ProjectedThrough(largeSet.Set, MapProjectionKind.Umap), Is.Zero, "UMAP only when asked");
        });
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Pass_SettledLargeSet_WaitsForAQuietApiOrTheMaximumDeferral(CancellationToken cancellationToken)
    {
        // A warmer of its own on the server's store and maps, on a fake clock, looked through by hand.
        await using var server = await RunningServer.StartAsync();
        var large = new EmbeddingSetDescriptor { Model = "large", ModelVersion = "1", Layer = "l", Dimension = 4 };
        var total = (int)MapWarmer.MinimumRecords + 500;
        for (var first = 0; first < total; first += 5_000)
        {
            var acks = await server.LogAsync(Batch(large, first, Math.Min(5_000, total - first)));
            Assert.That(acks.Select(a => a.Error?.Message), Has.All.Null);
        }

        var clock = new FakeTimeProvider();
        var activity = new GrpcActivity(clock);
        var warmer = new MapWarmer(
            server.Server.Services.GetRequiredService<IRecordStore>(), server.Server.Services.GetRequiredService<MapProjections>(),
            clock, activity, NullLogger<MapWarmer>.Instance);
        var step = MapWarmer.Interval;

        warmer.Pass(cancellationToken); // first look: the set's sequence is new
        clock.Advance(step);
        activity.Begin(); // a query in flight
        warmer.Pass(cancellationToken); // settled, but the API is busy
        activity.End();
        clock.Advance(step);
        warmer.Pass(cancellationToken); // quiet for less than QuietPeriod
        var whileBusy = warmer.Warmed;
        clock.Advance(GrpcActivity.QuietPeriod);
        warmer.Pass(cancellationToken);
        var onceQuiet = warmer.Warmed;

        // More records settle while queries keep coming: the map waits, then is projected at the maximum deferral.
        var acksMore = await server.LogAsync(Batch(large, total, 100));
        Assert.That(acksMore.Select(a => a.Error?.Message), Has.All.Null);
        var waits = new List<int>();
        for (var waited = TimeSpan.Zero; waited <= GrpcActivity.MaximumDeferral + step; waited += step)
        {
            activity.Begin();
            activity.End();
            warmer.Pass(cancellationToken);
            waits.Add(warmer.Warmed);
            clock.Advance(step);
        }

        Assert.Multiple(() =>
        {
            Assert.That(whileBusy, Is.Zero, "nothing projected while a call is in flight or just ended");
            Assert.That(onceQuiet, Is.EqualTo(1), "projected once the API has been quiet for QuietPeriod");
            Assert.That(waits.Count(w => w == 1), Is.GreaterThanOrEqualTo((int)(GrpcActivity.MaximumDeferral / step) - 1), "waits while the API stays busy");
            Assert.That(waits[^1], Is.EqualTo(2), "and projects after MaximumDeferral regardless");
        });
    }

    private static LogBatch Batch(EmbeddingSetDescriptor descriptor, int first, int count) =>
        Records.Batch(descriptor, [.. Enumerable.Range(first, count).Select(i => Records.Make(
            [.. Enumerable.Range(0, 4).Select(d => (float)Math.Sin((i * 0.37) + d))], "production", null))]);
}
