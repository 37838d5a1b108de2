using Chroma.Server.Recommendations;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

/// <summary>
/// The labeling list's distance allowance measured against the production stream (<see cref="LabelingAllowance"/>),
/// on streams whose surprises are set directly, so the answer is known.
/// </summary>
public class LabelingAllowanceTests
{
    private const double Fixed = SignalCombiner.LabelingDistanceAllowance;

    [Test]
    public void Of_WholeStreamShifted_RaisesTheAllowanceByTheMedianAboveTheTypicalSurprise()
    {
        // 100 records, kNN surprise 4 each (beyond the fixed allowance), Mahalanobis at the typical median (p = 0.5).
        var records = Stream(Enumerable.Repeat(1e-4, 100));

        var allowance = LabelingAllowance.Of(records);

        Assert.Multiple(() =>
        {
            Assert.That(allowance.KnnDistance, Is.EqualTo(Fixed + 4 - LabelingAllowance.TypicalSurprise).Within(1e-9));
            Assert.That(allowance.Mahalanobis, Is.EqualTo(Fixed), "a signal whose median did not move keeps the fixed allowance");
            Assert.That(allowance.Excess(records[0].Signals), Is.Zero, "the shifted records are candidates");
        });
    }

    [Test]
    public void Of_ForeignMinorityInAnUnshiftedStream_KeepsTheFixedAllowance()
    {
        // 90 records at the typical surprise (p = 0.5), 10 foreign ones far beyond (p = 1e-9): the median does not move.
        var records = Stream([.. Enumerable.Repeat(0.5, 90), .. Enumerable.Repeat(1e-9, 10)]);

        var allowance = LabelingAllowance.Of(records);

        Assert.Multiple(() =>
        {
            Assert.That(allowance, Is.EqualTo(LabelingAllowance.Fixed));
            Assert.That(allowance.Excess(records[^1].Signals), Is.EqualTo(9 - Fixed).Within(1e-9), "a foreign record stays beyond it");
        });
    }

    [Test]
    public void Of_FewerThanTenRecords_IsNoEvidenceAndKeepsTheFixedAllowance()
    {
        // Nine records all at surprise 4: the lower one-in-a-thousand bound on their median has no order statistic.
        var nine = Stream(Enumerable.Repeat(1e-4, 9));
        var ten = Stream(Enumerable.Repeat(1e-4, 10));

        Assert.Multiple(() =>
        {
            Assert.That(LabelingAllowance.Of(nine), Is.EqualTo(LabelingAllowance.Fixed));
            Assert.That(LabelingAllowance.Of(ten).KnnDistance, Is.EqualTo(Fixed + 4 - LabelingAllowance.TypicalSurprise).Within(1e-9), "ten agreeing records are enough");
        });
    }

    [Test]
    public void Of_MedianAboveTypicalWithoutConfidence_KeepsTheFixedAllowance()
    {
        // 100 records: 55 at surprise 1 and 45 at 0.1. The median (index 50) is 1, but the lower bound (index
        // floor(50 - 3.09 x 10 / 2) = 34) is 0.1, below log10 2: not enough evidence that the stream moved.
        var records = Stream([.. Enumerable.Repeat(SurpriseOfATenth, 45), .. Enumerable.Repeat(0.1, 55)]);
        var moved = Stream([.. Enumerable.Repeat(SurpriseOfATenth, 30), .. Enumerable.Repeat(0.1, 70)]);

        Assert.Multiple(() =>
        {
            Assert.That(LabelingAllowance.StreamShift(records, SignalKind.KnnDistance), Is.Zero);
            Assert.That(LabelingAllowance.StreamShift(moved, SignalKind.KnnDistance), Is.EqualTo(1 - LabelingAllowance.TypicalSurprise).Within(1e-9), "with 70 of 100 at 1 the bound (index 34) is 1 too");
        });
    }

    [Test]
    public void Excess_IsTheLargerExcessOfTheTwoDistanceSignalsOverTheirOwnAllowances()
    {
        SignalScore[] signals =
        [
            new(SignalKind.Mahalanobis, 1, 1, Math.Pow(10, -5)),
            new(SignalKind.KnnDistance, 1, 1, Math.Pow(10, -6)),
            new(SignalKind.FeatureNorm, 1, 1, Math.Pow(10, -20)),
        ];

        Assert.Multiple(() =>
        {
            Assert.That(new LabelingAllowance(3, 3).Excess(signals), Is.EqualTo(3).Within(1e-9), "kNN: 6 - 3");
            Assert.That(new LabelingAllowance(3, 5.5).Excess(signals), Is.EqualTo(2).Within(1e-9), "Mahalanobis: 5 - 3");
            Assert.That(new LabelingAllowance(6, 6).Excess(signals), Is.Zero, "other signals take no part");
            Assert.That(LabelingAllowance.Fixed.Excess(signals), Is.EqualTo(SignalCombiner.LabelingDistanceExcess(signals)).Within(1e-9), "the fixed allowance is the score's penalty");
        });
    }

    // The p-value whose surprise is 0.1.
    private static readonly double SurpriseOfATenth = Math.Pow(10, -0.1);

    private static ScoredRecord[] Stream(IEnumerable<double> knnPValues) =>
        [.. knnPValues.Select((p, i) =>
        {
            SignalScore[] signals = [new(SignalKind.Mahalanobis, 1, 0.5, 0.5), new(SignalKind.KnnDistance, 1, 1 - p, p)];
            var measurement = new EmbeddingMeasurement(1, "0", new NeighborSignals(0.1, 0, 10, null, 0));
            return new ScoredRecord($"r{i}", "v1", new float[] { 1, 0 }, "0", measurement, null, signals);
        })];
}
