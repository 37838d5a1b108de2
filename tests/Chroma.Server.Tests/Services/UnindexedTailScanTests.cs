using Chroma.Protocol.V1;
using Chroma.Server.Services.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Tests.Storage;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;

namespace Chroma.Server.Tests.Services;

/// <summary>
/// An exact FindNearest scans what the index has not taken in from the store: the scan's answer over real SQLite rows
/// equals a brute-force answer, under both metrics and a dataset filter; and through a server whose index is behind.
/// </summary>
[TestFixture]
public sealed class UnindexedTailScanTests
{
    private const int Dimension = 6;

    [TestCase(false, null)]
    [TestCase(true, null)]
    [TestCase(false, "production")]
    public async Task Nearest_RowsAfterASequence_TheBruteForceNeighboursOfThoseRows(bool cosine, string? dataset)
    {
        var metric = cosine ? DistanceMetric.Cosine : DistanceMetric.L2;
        // Arrange: 900 records; the scan starts after the 300th (what an index would already hold).
        using var store = new StoreFixture();
        var descriptor = Records.Set(Dimension, model: "tail-" + metric);
        descriptor.Metric = metric;
        var random = new Random(5);
        var records = Enumerable.Range(0, 900)
            .Select(i => Records.Make([.. Enumerable.Range(0, Dimension).Select(_ => (float)random.NextDouble() - 0.5f)], i % 3 == 0 ? "training" : "production"))
            .ToArray();
        await store.IngestAsync(descriptor, records);
        var set = store.Store.FindSet(Records.SetId(descriptor))!;
        var stored = store.Store.GetRecordsByIds(set, [.. records.Select(r => r.Id)], includeEmbeddings: false).ToDictionary(r => r.Record.Id, r => r.Sequence);
        var after = stored[records[299].Id];
        float[] query = [.. Enumerable.Range(0, Dimension).Select(_ => (float)random.NextDouble() - 0.5f)];

        // Act
        var found = UnindexedTailScan.Nearest(store.Store, set, query, 7, dataset, after, store.Store.ReadLastSequence(set), CancellationToken.None);

        // Assert
        var expected = records.Skip(300).Where(r => dataset is null || r.Dataset == dataset)
            .OrderBy(r => Distance(metric, query, [.. r.Embedding])).Take(7).Select(r => stored[r.Id]).ToList();
        Assert.That(found.Select(n => n.Sequence), Is.EqualTo(expected));
        Assert.That(found.Select(n => n.Distance), Is.Ordered.Ascending);
        var nearest = records.Single(r => stored[r.Id] == found[0].Sequence);
        Assert.That(found[0].Distance, Is.EqualTo(Distance(metric, query, [.. nearest.Embedding])).Within(1e-5));
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task FindNearest_ExactRightAfterABulkBatch_FindsTheLastRecordAndSaysNothingIsMissing()
    {
        // Arrange: a graph index past its threshold and no catch-up wait, so a query right after a large batch meets an
        // index that has not taken it in yet.
        await using var server = await RunningServer.StartAsync(o =>
        {
            o.Port = 0;
            o.Web.Port = 0;
            o.Indexing.ExactSearchThreshold = 500;
            o.Indexing.CatchUpTimeout = TimeSpan.Zero;
        });
        var descriptor = Records.Set(16, model: "tail-server");
        var random = new Random(9);
        Record Row() => Records.Make([.. Enumerable.Range(0, 16).Select(_ => (float)random.NextDouble())], "production");
        Assert.That((await server.LogAsync(Records.Batch(descriptor, [.. Enumerable.Range(0, 2_000).Select(_ => Row())]))).Single().Error, Is.Null);
        var batch = Enumerable.Range(0, 9_000).Select(_ => Row()).ToArray();

        // Act
        Assert.That((await server.LogAsync(Records.Batch(descriptor, batch))).Single().Error, Is.Null);
        var answer = await server.Query.FindNearestAsync(
            new FindNearestRequest { SetId = Records.SetId(descriptor), RecordId = batch[^1].Id, K = 1, Exact = true }, deadline: DateTime.UtcNow.AddSeconds(60));

        // Assert
        Assert.That(answer.Neighbors.Single().Record.Record.Id, Is.EqualTo(batch[^1].Id));
        Assert.That(answer.Neighbors.Single().Distance, Is.Zero);
        Assert.That(answer.IndexBehind, Is.False, "an exact answer scanned what the index had not taken in");
    }

    private static float Distance(DistanceMetric metric, float[] a, float[] b)
    {
        if (metric == DistanceMetric.Cosine)
        {
            var dot = a.Zip(b, (x, y) => (double)x * y).Sum();
            return (float)(1 - (dot / Math.Sqrt(a.Sum(x => (double)x * x) * b.Sum(x => (double)x * x))));
        }

        return (float)a.Zip(b, (x, y) => ((double)x - y) * ((double)x - y)).Sum();
    }
}
