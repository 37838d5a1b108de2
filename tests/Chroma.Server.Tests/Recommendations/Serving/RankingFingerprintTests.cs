using Chroma.Server.Labeling;
using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Recommendations.Serving;
using Chroma.Server.Storage;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations.Serving;

/// <summary>
/// The fingerprint a page token names its ranking by: the same for the same content, whichever process published it
/// (a replica reads the holder's scores back through <see cref="ScoreCodec"/>), and different when anything that orders
/// the ranking differs.
/// </summary>
public class RankingFingerprintTests
{
    private static readonly EmbeddingMeasurement Measurement = new(2.5, "7", new NeighborSignals(0.3, 0.1, 10, "2", 1));

    private static ScoredRecord Record(int i, double pValue) =>
        new($"r{i}", "v1", new float[] { 0.6f, 0.8f }, (i % 3).ToString(System.Globalization.CultureInfo.InvariantCulture), Measurement, null,
            [
                new(SignalKind.Mahalanobis, 2.5 + i, 0.5, pValue), new(SignalKind.KnnDistance, 0.3 / (i + 1), 0.25, 1.0 / (i + 3)),
                new(SignalKind.ProductionShift, 3.0 / (i + 1), 0.9, 1.0 / (i + 11)), new(SignalKind.Boundary, 0.1 * i, 0.4, 1.0 / (i + 2)),
            ])
        {
            // As a pass leaves them: a lead only beside a production-shift signal, a boundary factor of 1 or less.
            ShiftLeadSurprise = i % 2 == 0 ? null : 1.0 / 3,
            BoundaryFactor = i % 3 == 0 ? 1 : 1 - (i / 70.0),
        };

    private static SetScores Scores(IEnumerable<ScoredRecord> records, long revision, long computedUnixMs = 1) =>
        new([.. records.Select((r, i) => new ScoredEntry(i + 1, "production", r))], "v1", computedUnixMs, revision, null);

    private static ScoredRecord[] Records() => [.. Enumerable.Range(0, 20).Select(i => Record(i, 1.0 / (i + 7)))];

    [Test]
    public void Of_SameContentPublishedApart_SameFingerprint()
    {
        // Another revision number and publication time, as on another replica or after a republication.
        var here = Scores(Records(), revision: 3, computedUnixMs: 1_000);
        var there = Scores(Records(), revision: 41, computedUnixMs: 2_000);

        Assert.That(RankingFingerprint.Of(there), Is.EqualTo(RankingFingerprint.Of(here)));
    }

    [Test]
    public void Of_ScoresReadBackFromTheirStoredRows_SameFingerprint()
    {
        // What another replica serves: the holder's rows, stored and rebuilt.
        var records = Records();
        var restored = records.Select((r, i) =>
        {
            var row = ScoreCodec.ToRow(i + 1, r);
            return ScoreCodec.FromStored(new PersistedScore(new ScorableRecord(i + 1, r.Id, "production", [3, 4], r.PredictedClass, null), "v1", row.SignalsJson, row.MeasurementJson, 0));
        });

        Assert.That(RankingFingerprint.Of(Scores(restored, revision: 9)), Is.EqualTo(RankingFingerprint.Of(Scores(records, revision: 1))));
    }

    [Test]
    public void Of_AnyOrderingInputChanged_OtherFingerprint()
    {
        var records = Records();
        var baseline = RankingFingerprint.Of(Scores(records, 1));
        var oneSignal = records.ToArray();
        oneSignal[7] = oneSignal[7] with { Signals = [oneSignal[7].Signals[0] with { PValue = Math.BitIncrement(oneSignal[7].Signals[0].PValue) }, .. oneSignal[7].Signals.Skip(1)] };
        var oneClass = records.ToArray();
        oneClass[3] = oneClass[3] with { PredictedClass = "9" };
        var oneLead = records.ToArray();
        oneLead[4] = oneLead[4] with { ShiftLeadSurprise = 0.5 };
        var otherTraining = Scores(records, 1) with { TrainingVersion = "v2" };
        var oneFewer = Scores(records.Take(19), 1);

        Assert.That(
            new[] { RankingFingerprint.Of(Scores(oneSignal, 1)), RankingFingerprint.Of(Scores(oneClass, 1)), RankingFingerprint.Of(Scores(oneLead, 1)), RankingFingerprint.Of(otherTraining), RankingFingerprint.Of(oneFewer) },
            Has.None.EqualTo(baseline));
    }

    [Test]
    public void Of_Excluded_SameSetInAnyOrderAlikeOtherSetOrNoneNot()
    {
        var some = new ReviewedSnapshot(new HashSet<long> { 5, 17, 230 }, Version: 2);
        var sameOtherOrder = new ReviewedSnapshot(new SortedSet<long> { 230, 5, 17 }, Version: 7);
        var other = new ReviewedSnapshot(new HashSet<long> { 5, 17, 231 }, Version: 2);
        var empty = new ReviewedSnapshot(new HashSet<long>(), Version: 0);

        Assert.Multiple(() =>
        {
            Assert.That(RankingFingerprint.Of(sameOtherOrder), Is.EqualTo(RankingFingerprint.Of(some)), "the version counts this replica's writes; the fingerprint does not");
            Assert.That(RankingFingerprint.Of(other), Is.Not.EqualTo(RankingFingerprint.Of(some)));
            Assert.That(RankingFingerprint.Of((ReviewedSnapshot?)null), Is.Zero, "nothing left out");
            Assert.That(RankingFingerprint.Of(empty), Is.Not.Zero, "an empty set of reviews is not the same request as include_reviewed");
        });
    }
}
