using Chroma.Protocol.V1;
using Chroma.Server.Indexing;
using Chroma.Server.Storage;
using Chroma.Server.Tests.Indexing.Hnsw;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// A set where a few inputs were logged again and again (3,000 copies of 5 vectors beside 5,000 distinct ones),
/// searched through a real server on 127.0.0.1 once its HNSW graph answers: copies must not cut the distinct records off.
/// </summary>
[TestFixture]
public sealed class RepeatedVectorSearchTests
{
    private const int Dimension = 8;
    private const int Distinct = 5_000;
    private const int Copies = 3_000;

    [Test, CancelAfter(180_000)]
    public async Task FindNearest_SetWithThousandsOfCopies_FindsEveryDistinctRecordByItsVector(CancellationToken cancellationToken)
    {
        // Arrange
        await using var server = await RunningServer.StartAsync(o => o.Indexing.BuildThreads = 2);
        var random = new Random(5);
        var repeated = TestVectors.Uniform(5, Dimension, seed: 9);
        var distinct = TestVectors.Uniform(Distinct, Dimension, seed: 8);
        var vectors = distinct.Select(v => (Vector: v, Copy: false))
            .Concat(Enumerable.Range(0, Copies).Select(i => (Vector: repeated[i % repeated.Length], Copy: true)))
            .OrderBy(_ => random.Next())
            .ToArray();
        var records = vectors.Select(v => Records.Make(v.Vector, dataset: "production")).ToArray();
        var set = Records.Set(Dimension, model: "repeated");
        var setId = Records.SetId(set);
        var acks = await server.LogPipelinedAsync(records.Chunk(1_000).Select(chunk => Records.Batch(set, chunk)).ToList(), TimeSpan.FromMinutes(2));
        Assert.That(acks.Sum(a => a.Accepted), Is.EqualTo(records.Length));
        var stored = server.Server.Services.GetRequiredService<IRecordStore>().ListSets().Single(s => s.Set.SetId == setId).Set;
        var indexes = server.Server.Services.GetRequiredService<EmbeddingSetIndexes>();
        var index = await indexes.LoadAsync(stored).WaitAsync(cancellationToken);
        // The build starts once the worker has read enough records, which can be after the load: wait for its graph.
        while (index.Count < records.Length || index.Hnsw is null)
        {
            await Task.Delay(50, cancellationToken);
        }

        Assert.That(index.Hnsw, Is.Not.Null, "the graph answers");
        // Act: every distinct record's vector, the default breadth.
        var missed = 0;
        for (var i = 0; i < records.Length; i++)
        {
            if (vectors[i].Copy)
            {
                continue;
            }

            var response = await server.Query.FindNearestAsync(
                new FindNearestRequest { SetId = setId, Embedding = new Vector { Values = { vectors[i].Vector } }, K = 1 },
                cancellationToken: cancellationToken);
            missed += response.Neighbors[0].Record.Record.Id == records[i].Id ? 0 : 1;
        }

        // Assert: the graph reaches every record, and an approximate walk finds nearly every one first.
        Assert.Multiple(() =>
        {
            Assert.That(index.Hnsw!.Graph.Connectivity().Unreachable, Is.Zero, "records no search reaches");
            Assert.That(missed, Is.LessThanOrEqualTo(Distinct / 200), "distinct records not found first by their own vector");
        });
        var copies = await server.Query.FindNearestAsync(
            new FindNearestRequest { SetId = setId, Embedding = new Vector { Values = { repeated[0] } }, K = 20 },
            cancellationToken: cancellationToken);
        Assert.That(copies.Neighbors.Select(n => n.Distance), Is.All.EqualTo(0f), "a repeated vector's copies come first");
    }
}
