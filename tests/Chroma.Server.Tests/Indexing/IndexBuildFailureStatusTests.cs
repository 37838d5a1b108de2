extern alias client;

using Chroma.Protocol.V1;
using Chroma.Server.Indexing;
using Chroma.Server.Tests.Indexing.Hnsw;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// A failed HNSW build shows in the index's status, which ListSets reports (probe U, U6: an out-of-memory build
/// showed only as kind EXACT; the log alone said why).
/// </summary>
[TestFixture]
public sealed class IndexBuildFailureStatusTests
{
    private const int Dimension = 8;
    private static readonly EmbeddingSetDescriptor Set = Records.Set(Dimension);

    [Test, CancelAfter(60_000)]
    public async Task Build_FailsPartWay_StatusSaysWhyAndWhenWhileExactSearchAnswers(CancellationToken cancellationToken)
    {
        // Arrange: 500 records over a threshold of 300; the build throws at its third step.
        using var fixture = new IndexRegistryFixture(threshold: 300);
        var failed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fixture.Indexes.BuildStepSize = 100;
        fixture.Indexes.BuildStepObserver = (step, _) =>
        {
            if (step.Indexed >= 300)
            {
                failed.TrySetResult();
                throw new InsufficientMemoryException("simulated: the heap limit was reached");
            }

            return ValueTask.CompletedTask;
        };
        var records = TestVectors.Clustered(500, Dimension, clusters: 4, seed: 3).Select(v => Records.Make(v)).ToArray();

        // Act
        await fixture.IngestAsync(Set, records);
        var set = fixture.Store.RequireSet(Set);
        await fixture.Indexes.ApplyQueuedAsync();
        await failed.Task.WaitAsync(cancellationToken);
        IndexStatus? status = null;
        while (status?.LastBuildFailure is null)
        {
            await Task.Delay(10, cancellationToken);
            status = fixture.Indexes.GetStatus(set);
        }

        var found = await fixture.Indexes.SearchAsync(set, records[7].Embedding.ToArray(), 1, null, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(status.Kind, Is.Not.EqualTo(SetIndexKind.Hnsw));
            Assert.That(status.LastBuildFailure!.Message, Is.EqualTo("InsufficientMemoryException: simulated: the heap limit was reached"));
            Assert.That(status.LastBuildFailure.UnixMs, Is.EqualTo(fixture.Clock.GetUtcNow().ToUnixTimeMilliseconds()));
            Assert.That(found.Single().Distance, Is.Zero, "exact search answers meanwhile");
        });
    }

    [Test, CancelAfter(120_000)]
    public async Task ListSets_AfterAFailedBuild_TheClientSeesWhyAndWhen(CancellationToken cancellationToken)
    {
        // Arrange: a real server whose builds throw, a set above its exact-search threshold.
        await using var server = await Reliability.LoggedServer.StartAsync(o => o.Indexing.ExactSearchThreshold = 300, Microsoft.Extensions.Logging.LogLevel.Warning);
        var indexes = (EmbeddingSetIndexes)server.Services.GetService(typeof(EmbeddingSetIndexes))!;
        indexes.BuildStepObserver = (_, _) => throw new InsufficientMemoryException("simulated: the heap limit was reached");
        await using var client = new client::Chroma.ChromaClient(new client::Chroma.ChromaClientOptions { Endpoint = server.Endpoint, RequestTimeout = TimeSpan.FromSeconds(20) });
        var set = client.GetEmbeddingSet(new client::Chroma.EmbeddingSetDescriptor("failing-build", "1", "l", Dimension));
        foreach (var vector in TestVectors.Clustered(500, Dimension, clusters: 4, seed: 5))
        {
            Assert.That(set.Log(client::Chroma.ChromaDatasets.Training, vector, label: "a"), Is.True);
        }

        await client.FlushAsync(cancellationToken);

        // Act
        client::Chroma.EmbeddingSetIndexInfo? index = null;
        while (index?.BuildFailure is null)
        {
            await Task.Delay(50, cancellationToken);
            index = (await client.ListSetsAsync(cancellationToken)).Single().Index;
        }

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(index.BuildFailure, Is.EqualTo("InsufficientMemoryException: simulated: the heap limit was reached"));
            Assert.That(index.BuildFailedAt, Is.InRange(DateTimeOffset.UtcNow.AddMinutes(-2), DateTimeOffset.UtcNow));
            Assert.That(index.Kind, Is.Not.EqualTo(client::Chroma.EmbeddingSetIndexKind.Hnsw));
        });
    }
}
