using Chroma.Protocol.V1;
using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;
using Chroma.Server.Web.Internal;
using Microsoft.Extensions.DependencyInjection;

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

    private static LogBatch Batch(EmbeddingSetDescriptor descriptor, int first, int count) =>
        Records.Batch(descriptor, [.. Enumerable.Range(first, count).Select(i => Records.Make(
            [.. Enumerable.Range(0, 4).Select(d => (float)Math.Sin((i * 0.37) + d))], "production", null))]);
}
