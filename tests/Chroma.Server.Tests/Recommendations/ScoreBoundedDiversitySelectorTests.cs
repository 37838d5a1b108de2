using Chroma.Server.Recommendations;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class ScoreBoundedDiversitySelectorTests
{
    // Three records in one direction with the top scores, two in another with lower scores.
    private static readonly ReadOnlyMemory<float>[] Vectors =
    [
        new float[] { 1, 0 }, new float[] { 0.999f, 0.045f }, new float[] { 0.998f, 0.063f },
        new float[] { 0, 1 }, new float[] { 0.045f, 0.999f },
    ];

    private static readonly double[] Scores = [10, 9.9, 9.8, 6, 5.9];

    [Test]
    public void Select_WindowOne_RanksByScore()
    {
        var picks = ScoreBoundedDiversitySelector.Select(Vectors, Scores, 5, window: 1, relevance: 0.5);

        Assert.That(picks, Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));
    }

    [Test]
    public void Select_OtherRegionInsideWindow_PicksItSecond()
    {
        var picks = ScoreBoundedDiversitySelector.Select(Vectors, Scores, 3, window: 10, relevance: 0.7);

        Assert.That(picks[0], Is.EqualTo(0));
        Assert.That(picks[1], Is.EqualTo(3));
    }

    [Test]
    public void Select_OtherRegionOutsideWindow_WaitsUntilItEntersTheWindow()
    {
        var picks = ScoreBoundedDiversitySelector.Select(Vectors, Scores, 5, window: 2, relevance: 0.3);

        // Record 3 is not in the window {1, 2} of the second pick; it enters at the third.
        Assert.That(picks, Is.EqualTo(new[] { 0, 1, 3, 2, 4 }));
    }

    [Test]
    public void Select_RandomCandidates_EntryTComesFromTheTopTPlusWindow()
    {
        var (vectors, scores) = RandomCandidates(400, 16, seed: 5);

        var picks = ScoreBoundedDiversitySelector.Select(vectors, scores, 200, window: 10, relevance: 0.2);

        Assert.That(picks, Is.Unique);
        Assert.That(picks.Select((index, t) => index - t), Has.All.LessThanOrEqualTo(9));
    }

    [Test]
    public void Select_TightClusterAtTheCut_KeepsEveryRecordOfTheBlocksAsked()
    {
        // Known answer: a tight cluster (one kind of shift: records alike) at score ranks 0 and 15..19, scattered
        // records everywhere else, scores barely falling. Spreading may reorder the top 20 but not trade cluster
        // members for the scattered records at ranks 20..29 (a window sliding over the next 10 did).
        var (vectors, _) = RandomCandidates(30, 32, seed: 7);
        var random = new Random(8);
        foreach (var i in new[] { 0, 15, 16, 17, 18, 19 })
        {
            var v = new float[32];
            v[0] = 1;
            for (var j = 1; j < 32; j++)
            {
                v[j] = (float)((random.NextDouble() - 0.5) * 0.05);
            }

            var norm = MathF.Sqrt(v.Sum(x => x * x));
            vectors[i] = v.Select(x => x / norm).ToArray();
        }

        var scores = Enumerable.Range(0, 30).Select(i => 10 - (0.01 * i)).ToArray();

        var picks = ScoreBoundedDiversitySelector.Select(vectors, scores, 20, window: 10, relevance: 0.7);

        Assert.That(picks, Is.EquivalentTo(Enumerable.Range(0, 20)));
        Assert.That(picks.Take(10), Is.Not.EqualTo(Enumerable.Range(0, 10)), "the blocks should still be reordered");
    }

    [Test]
    public void Select_RandomCandidates_EachBlockHoldsItsScoreRanks()
    {
        var (vectors, scores) = RandomCandidates(400, 16, seed: 9);

        var picks = ScoreBoundedDiversitySelector.Select(vectors, scores, 205, window: 10, relevance: 0.2);

        Assert.That(picks, Is.Unique);
        Assert.That(picks.Select((index, t) => Math.Abs(index - t)), Has.All.LessThanOrEqualTo(9));
        for (var k = 10; k <= 200; k += 10)
        {
            Assert.That(picks.Take(k), Is.EquivalentTo(Enumerable.Range(0, k)), $"top {k}");
        }

        Assert.That(picks.Skip(200), Has.All.InRange(200, 209));
    }

    [Test]
    public void Select_AskingForMore_KeepsTheFirstEntries()
    {
        var (vectors, scores) = RandomCandidates(300, 16, seed: 6);

        var short20 = ScoreBoundedDiversitySelector.Select(vectors, scores, 20, window: 50, relevance: 0.4);
        var long80 = ScoreBoundedDiversitySelector.Select(vectors, scores, 80, window: 50, relevance: 0.4);

        Assert.That(long80.Take(20), Is.EqualTo(short20));
    }

    [Test]
    public void Select_CountLargerThanCandidates_ReturnsAllOnce()
    {
        var picks = ScoreBoundedDiversitySelector.Select(Vectors, Scores, 10, window: 3, relevance: 0.5);

        Assert.That(picks, Is.EquivalentTo(new[] { 0, 1, 2, 3, 4 }));
    }

    [Test]
    public void Select_LongList_FirstHorizonAsAgainstEveryPickThenAgainstTheLatestOnly()
    {
        // A list longer than the similarity horizon: its first SimilarityHorizon entries are exactly those of the rule
        // measured against every earlier pick (the selector before the horizon); after them each block still holds its
        // own score ranks, and the entries differ from that rule only by the picks beyond the horizon.
        var (vectors, scores) = RandomCandidates(2_500, 8, seed: 11);

        var picks = ScoreBoundedDiversitySelector.Select(vectors, scores, 2_500, window: 10, relevance: 0.7);
        var everyPick = AgainstEveryPick(vectors, scores, 2_500, window: 10, relevance: 0.7);

        Assert.Multiple(() =>
        {
            Assert.That(picks.Take(ScoreBoundedDiversitySelector.SimilarityHorizon), Is.EqualTo(everyPick.Take(ScoreBoundedDiversitySelector.SimilarityHorizon)));
            Assert.That(picks, Is.Unique);
            Assert.That(picks.Chunk(10).Select((block, b) => block.Order()), Is.EqualTo(Enumerable.Range(0, 250).Select(b => Enumerable.Range(b * 10, 10))));
            Assert.That(picks.Skip(ScoreBoundedDiversitySelector.SimilarityHorizon), Is.Not.EqualTo(everyPick.Skip(ScoreBoundedDiversitySelector.SimilarityHorizon)), "the horizon is in force past it");
        });
    }

    // The rule without a horizon: each candidate against every earlier pick (quadratic in the list's length).
    private static List<int> AgainstEveryPick(ReadOnlyMemory<float>[] vectors, double[] scores, int count, int window, double relevance)
    {
        var picked = new List<int>();
        var similarity = new double[count];
        var taken = new bool[count];
        var maxScore = scores.Take(count).Max();
        while (picked.Count < count)
        {
            var start = picked.Count / window * window;
            var end = Math.Min(count, start + window);
            var best = Enumerable.Range(start, end - start).Where(i => !taken[i])
                .MaxBy(i => (relevance * scores[i] / maxScore) - ((1 - relevance) * similarity[i]));
            picked.Add(best);
            taken[best] = true;
            for (var i = start; i < count; i++)
            {
                similarity[i] = Math.Max(similarity[i], Math.Max(System.Numerics.Tensors.TensorPrimitives.Dot(vectors[i].Span, vectors[best].Span), 0));
            }
        }

        return picked;
    }

    private static (ReadOnlyMemory<float>[] Vectors, double[] Scores) RandomCandidates(int count, int dimension, int seed)
    {
        var random = new Random(seed);
        var vectors = new ReadOnlyMemory<float>[count];
        for (var i = 0; i < count; i++)
        {
            var v = new float[dimension];
            for (var j = 0; j < dimension; j++)
            {
                v[j] = (float)(random.NextDouble() - 0.5);
            }

            var norm = MathF.Sqrt(v.Sum(x => x * x));
            vectors[i] = v.Select(x => x / norm).ToArray();
        }

        var scores = Enumerable.Range(0, count).Select(_ => random.NextDouble() * 10).OrderDescending().ToArray();
        return (vectors, scores);
    }
}
