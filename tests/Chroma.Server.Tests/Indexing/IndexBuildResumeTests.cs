using Microsoft.Extensions.Logging;
using Chroma.Protocol.V1;
using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Tests.Indexing.Hnsw;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// Background builds checkpoint between steps and a restart resumes from the checkpoint. The build is driven
/// step by step through <see cref="EmbeddingSetIndexes.BuildStepObserver"/>: a checkpoint is asked for after
/// step 2 and the build is held at step 3 until the registry is torn down (as a crash would stop it).
/// </summary>
[TestFixture]
public sealed class IndexBuildResumeTests
{
    private const int Dimension = 8;
    private const int Step = 100;
    private static readonly EmbeddingSetDescriptor Set = Records.Set(Dimension);

    private IndexRegistryFixture _fixture = null!;
    private Record[] _records = null!;

    [SetUp]
    public void SetUp()
    {
        _fixture = new IndexRegistryFixture(threshold: 300);
        var vectors = TestVectors.Clustered(530, Dimension, clusters: 6, seed: 12);
        _records = [.. vectors.Select((v, i) => Records.Make(v, dataset: i % 4 == 0 ? "production" : "training"))];
    }

    [TearDown]
    public void TearDown() => _fixture.Dispose();

    [Test, CancelAfter(60_000)]
    public async Task Restart_DuringBuildAfterCheckpoint_ResumesFromTheCheckpointAndAnswersExactlyMeanwhile(CancellationToken cancellationToken)
    {
        // Arrange: 500 records; the build checkpoints after 200 and is held at 300.
        var set = await InterruptedBuildAsync(cancellationToken);
        var duringBuild = await AnswersAsync(set, cancellationToken);
        var exactDuringBuild = ExactAnswers(set);
        var statusDuringBuild = _fixture.Indexes.GetStatus(set);

        // While the server is down: 30 more records stored and 5 of the checkpointed ones deleted.
        await _fixture.IngestUnindexedAsync(Set, _records[500..]);
        await _fixture.Store.Store.DeleteAsync(set, [.. _records[..5].Select(r => r.Id)], cancellationToken);

        // Act: restart; the new registry resumes the build.
        _fixture.Restart();
        var steps = ObserveSteps();
        var index = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        await index.BuildCompletion.WaitAsync(cancellationToken);
        var afterRestart = await AnswersAsync(set, cancellationToken);
        var afterRestartScanned = await AnswersAsync(set, cancellationToken, new NearestSearchOptions(Exact: true));
        var exactAfterRestart = ExactAnswers(set);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(duringBuild, Is.EqualTo(exactDuringBuild), "exact search answers while the graph is built");
            Assert.That(statusDuringBuild, Is.EqualTo(new IndexStatus(SetIndexKind.Building, 500, 300, 0, null)));
            Assert.That(_fixture.Indexes.GetLoadReport(set), Is.EqualTo(new IndexLoadReport(false, 525, 0) { CheckpointVectors = 200 }));
            Assert.That(index.ResumedVectors, Is.EqualTo(195), "the checkpoint's 200 less the 5 deleted are not inserted again");
            Assert.That(steps.Select(s => s.Indexed), Is.EqualTo(new[] { 295, 395, 495, 525 }), "only the rest is inserted");
            Assert.That(index.Hnsw, Is.Not.Null, "the resumed graph took over");
            Assert.That(index.Count, Is.EqualTo(525));
            // Every live record in the resumed graph with its vector, the deleted ones gone: a scan of the graph's
            // nodes answers exactly like a scan of the store. The walk is approximate (a node the neighbour heuristic
            // left with few in-links can be missed now and then), so it is held to a recall, not to equality.
            Assert.That(afterRestartScanned, Is.EqualTo(exactAfterRestart), "the resumed graph holds exactly the live records");
            Assert.That(Recall(afterRestart, exactAfterRestart), Is.GreaterThanOrEqualTo(0.9), "the resumed graph's walk finds nearly every exact neighbour");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Restart_DamagedCheckpoint_RebuildsFromTheStartWithWarning(CancellationToken cancellationToken)
    {
        // Arrange: an interrupted build's checkpoint, then one flipped byte.
        var set = await InterruptedBuildAsync(cancellationToken);
        var path = Directory.GetFiles(_fixture.Indexes.IndexDirectory, "*.hnsw").Single();
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        bytes[bytes.Length / 2] ^= 0x5A;
        await File.WriteAllBytesAsync(path, bytes, cancellationToken);

        // Act
        _fixture.Restart();
        var index = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        await index.BuildCompletion.WaitAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(_fixture.Indexes.GetLoadReport(set), Is.EqualTo(new IndexLoadReport(false, 500, 0)));
            Assert.That(index.ResumedVectors, Is.Zero);
            Assert.That(index.Hnsw!.Count, Is.EqualTo(500));
            Assert.That(_fixture.Log.Entries.Any(e => e.Level == LogLevel.Warning && e.Message.Contains("unusable", StringComparison.Ordinal)), Is.True);
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task ApplyQueuedAsync_BuildFinished_SavesTheCompleteGraphWithoutWaitingForTheSaveInterval(CancellationToken cancellationToken)
    {
        // Arrange
        await _fixture.IngestAsync(Set, _records[..400]);
        var set = _fixture.Store.RequireSet(Set);
        await _fixture.Indexes.ApplyQueuedAsync();
        var index = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        await index.BuildCompletion.WaitAsync(cancellationToken);

        // Act: the take-over queued the set for the worker, whose next turn saves it.
        await _fixture.Indexes.ApplyQueuedAsync();
        _fixture.Restart();
        await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);

        // Assert
        Assert.That(_fixture.Indexes.GetLoadReport(set), Is.EqualTo(new IndexLoadReport(true, 0, 0)), "loaded complete from its file");
    }

    /// <summary>Indexes 500 records; returns once the build has saved a checkpoint of 200 and is held after 300.</summary>
    private async Task<StoredEmbeddingSet> InterruptedBuildAsync(CancellationToken cancellationToken)
    {
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _fixture.Indexes.BuildStepSize = Step;
        _fixture.Indexes.BuildStepObserver = async (step, token) =>
        {
            step.Checkpoint = step.Indexed == 200;
            if (step.Indexed == 300)
            {
                held.TrySetResult();
                await Task.Delay(Timeout.Infinite, token);
            }
        };
        await _fixture.IngestAsync(Set, _records[..500]);
        var set = _fixture.Store.RequireSet(Set);
        await _fixture.Indexes.ApplyQueuedAsync();
        await held.Task.WaitAsync(cancellationToken);
        return set;
    }

    private List<IndexBuildStep> ObserveSteps()
    {
        var steps = new List<IndexBuildStep>();
        _fixture.Indexes.BuildStepSize = Step;
        _fixture.Indexes.BuildStepObserver = (step, _) =>
        {
            lock (steps)
            {
                steps.Add(step);
            }

            return ValueTask.CompletedTask;
        };
        return steps;
    }

    /// <summary>Record ids of the 5 nearest (all datasets, then training only) for a few fixed queries.</summary>
    private async Task<List<string>> AnswersAsync(StoredEmbeddingSet set, CancellationToken cancellationToken, NearestSearchOptions options = default)
    {
        var answers = new List<string>();
        foreach (var query in TestVectors.Uniform(10, Dimension, seed: 99))
        {
            foreach (var dataset in new[] { null, "training" })
            {
                var found = await _fixture.Indexes.SearchAsync(set, query, 5, dataset, options, cancellationToken);
                answers.Add(string.Join(',', found.Select(n => n.Sequence)));
            }
        }

        return answers;
    }

    /// <summary>The share of the exact answers' ids that the graph's answers hold, query by query.</summary>
    private static double Recall(List<string> found, List<string> exact)
    {
        var hits = found.Zip(exact, (f, e) => f.Split(',').Intersect(e.Split(',')).Count()).Sum();
        return hits / (double)exact.Sum(e => e.Split(',').Length);
    }

    private List<string> ExactAnswers(StoredEmbeddingSet set)
    {
        var stored = new List<(long Sequence, float[] Vector, string Dataset)>();
        _fixture.Store.Store.ReadVectors(set, (s, v, d) => stored.Add((s, v.ToArray(), d)));
        var answers = new List<string>();
        foreach (var query in TestVectors.Uniform(10, Dimension, seed: 99))
        {
            foreach (var dataset in new[] { null, "training" })
            {
                answers.Add(string.Join(',', stored.Where(r => dataset is null || r.Dataset == dataset)
                    .OrderBy(r => r.Vector.Zip(query, (a, b) => (double)(a - b) * (a - b)).Sum())
                    .Take(5).Select(r => r.Sequence)));
            }
        }

        return answers;
    }
}
