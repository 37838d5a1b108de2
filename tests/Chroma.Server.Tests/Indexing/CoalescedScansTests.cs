using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Internal;

namespace Chroma.Server.Tests.Indexing;

/// <summary>Exact searches that arrive while a pass runs are answered together by the next one.</summary>
[TestFixture]
public sealed class CoalescedScansTests
{
    [Test, CancelAfter(20_000)]
    public async Task Search_QueriesArriveDuringAPass_TheNextPassAnswersThemTogether(CancellationToken cancellationToken)
    {
        // Arrange: one pass at a time; the first is held until five more callers wait; each answer names its query's k.
        using var release = new ManualResetEventSlim(false);
        var groups = new List<int>();
        var scans = HeldFirstPass(groups, release, q => [new VectorNeighbor(q.K, q.K)], cancellationToken);

        // Act
        var (first, later) = await StartBehindTheHeldPassAsync(scans, groups, [2, 3, 4, 5, 6], cancellationToken);
        release.Set();
        var answers = await Task.WhenAll([first, .. later]).WaitAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(groups, Is.EqualTo(new[] { 1, 5 }), "one pass for the first, one for the five that waited");
            Assert.That(answers.Select(a => a.Single().Sequence), Is.EqualTo(new long[] { 1, 2, 3, 4, 5, 6 }), "each caller gets its own answer");
            Assert.That(scans.SharedPasses, Is.EqualTo(1));
            Assert.That(scans.WaitingCount, Is.Zero);
        });
    }

    [Test, CancelAfter(20_000)]
    public async Task Search_TwoPassesAllowed_ASecondCallerScansAtOnceAndAThirdWaits(CancellationToken cancellationToken)
    {
        // Arrange: two passes at a time, each held until released.
        using var release = new ManualResetEventSlim(false);
        var running = 0;
        var scans = new CoalescedScans(
            queries =>
            {
                Interlocked.Increment(ref running);
                release.Wait(cancellationToken);
                return [.. queries.Select(q => (IReadOnlyList<VectorNeighbor>)[new VectorNeighbor(q.K, 0)])];
            },
            maxPasses: 2);

        // Act
        var two = new[] { 1, 2 }.Select(k => Task.Run(() => scans.Search(new ExactQuery([0f], k, null)), cancellationToken)).ToArray();
        while (Volatile.Read(ref running) < 2)
        {
            await Task.Delay(5, cancellationToken);
        }

        var third = Task.Run(() => scans.Search(new ExactQuery([0f], 3, null)), cancellationToken);
        while (scans.WaitingCount < 1)
        {
            await Task.Delay(5, cancellationToken);
        }

        release.Set();
        var answers = await Task.WhenAll([.. two, third]).WaitAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(answers.Select(a => a.Single().Sequence), Is.EqualTo(new long[] { 1, 2, 3 }));
            Assert.That(running, Is.EqualTo(3), "the third query got a pass of its own once one ended");
            Assert.That(scans.SharedPasses, Is.Zero);
        });
    }

    [Test, CancelAfter(20_000)]
    public async Task Search_OneQueryOfASharedPassFails_OnlyItsCallerGetsTheError(CancellationToken cancellationToken)
    {
        // Arrange: one pass at a time; the first is held until three more callers wait; a pass holding k = 3 throws.
        using var release = new ManualResetEventSlim(false);
        var groups = new List<int>();
        var scans = HeldFirstPass(
            groups, release, q => q.K == 3 ? throw new ArgumentException("query 3 is malformed") : [new VectorNeighbor(q.K, 0)], cancellationToken);

        // Act
        var (first, later) = await StartBehindTheHeldPassAsync(scans, groups, [2, 3, 4], cancellationToken);
        release.Set();
        await Task.WhenAll([first, .. later.Where((_, i) => i != 1)]).WaitAsync(cancellationToken);
        var error = Assert.ThrowsAsync<ArgumentException>(() => later[1]);

        // Assert: the shared pass of three failed, and each was searched alone.
        Assert.Multiple(() =>
        {
            Assert.That(groups, Is.EqualTo(new[] { 1, 3, 1, 1, 1 }));
            Assert.That(error!.Message, Is.EqualTo("query 3 is malformed"));
            Assert.That(later[0].Result.Single().Sequence, Is.EqualTo(2));
            Assert.That(later[2].Result.Single().Sequence, Is.EqualTo(4));
        });
    }

    [Test, CancelAfter(20_000)]
    public void Search_PassThrows_TheCallerGetsTheErrorAndTheNextSearchIsAnswered(CancellationToken cancellationToken)
    {
        // Arrange
        var fail = true;
        var scans = new CoalescedScans(queries => fail
            ? throw new InvalidOperationException("scan failed")
            : [.. queries.Select(q => (IReadOnlyList<VectorNeighbor>)[new VectorNeighbor(q.K, 0)])]);

        // Act
        var error = Assert.Throws<InvalidOperationException>(() => scans.Search(new ExactQuery([0f], 3, null)));
        fail = false;
        var answer = scans.Search(new ExactQuery([0f], 4, null));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(error!.Message, Is.EqualTo("scan failed"));
            Assert.That(answer.Single().Sequence, Is.EqualTo(4));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task SearchTogether_ManyCallersAtOnce_EachGetsWhatASearchOfItsOwnGives(CancellationToken cancellationToken)
    {
        // Arrange: 20,000 vectors of 24 floats in two datasets; 8 callers, 40 queries each, some filtered by dataset.
        const int dimension = 24;
        var random = new Random(3);
        var index = new BruteForceVectorIndex(dimension);
        for (var i = 0; i < 20_000; i++)
        {
            index.Add(i, RandomVector(random, dimension), i % 4 == 0 ? "training" : "production");
        }

        var queries = Enumerable.Range(0, 320).Select(_ => RandomVector(random, dimension)).ToArray();
        string? DatasetOf(int q) => (q % 3) switch { 0 => null, 1 => "training", _ => "production" };
        var expected = queries.Select((q, i) => index.Search(q, 10, DatasetOf(i))).ToArray();

        // Act
        var found = new IReadOnlyList<VectorNeighbor>[queries.Length];
        await Task.WhenAll(Enumerable.Range(0, 8).Select(caller => Task.Run(
            () =>
            {
                for (var i = caller; i < queries.Length; i += 8)
                {
                    found[i] = index.SearchTogether(queries[i], 10, DatasetOf(i));
                }
            },
            cancellationToken))).WaitAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            for (var i = 0; i < queries.Length; i++)
            {
                Assert.That(found[i], Is.EqualTo(expected[i]), $"query {i}");
            }
        });
    }

    /// <summary>
    /// Scans one pass at a time that answer each query with <paramref name="answer"/> (a throw fails the pass); a pass
    /// holding the query of k = 1 waits for <paramref name="release"/>. Each pass adds its size to <paramref name="groups"/>.
    /// </summary>
    private static CoalescedScans HeldFirstPass(
        List<int> groups, ManualResetEventSlim release, Func<ExactQuery, IReadOnlyList<VectorNeighbor>> answer, CancellationToken cancellationToken) =>
        new(
            queries =>
            {
                lock (groups)
                {
                    groups.Add(queries.Count);
                }

                if (queries.Any(q => q.K == 1))
                {
                    release.Wait(cancellationToken);
                }

                return [.. queries.Select(answer)];
            },
            maxPasses: 1);

    /// <summary>Starts the search of k = 1, then, once its pass runs, one search for each of <paramref name="later"/>; returns when all of those wait.</summary>
    private static async Task<(Task<IReadOnlyList<VectorNeighbor>> First, Task<IReadOnlyList<VectorNeighbor>>[] Later)> StartBehindTheHeldPassAsync(
        CoalescedScans scans, List<int> groups, int[] later, CancellationToken cancellationToken)
    {
        var first = Task.Run(() => scans.Search(new ExactQuery([0f], 1, null)), cancellationToken);
        while (true)
        {
            lock (groups)
            {
                if (groups.Count > 0)
                {
                    break;
                }
            }

            await Task.Delay(5, cancellationToken);
        }

        var waiting = later.Select(k => Task.Run(() => scans.Search(new ExactQuery([0f], k, null)), cancellationToken)).ToArray();
        while (scans.WaitingCount < later.Length)
        {
            await Task.Delay(5, cancellationToken);
        }

        return (first, waiting);
    }

    private static float[] RandomVector(Random random, int dimension) =>
        [.. Enumerable.Range(0, dimension).Select(_ => (float)((random.NextDouble() * 2) - 1))];
}
