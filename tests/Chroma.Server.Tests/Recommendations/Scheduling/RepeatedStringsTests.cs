using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Storage;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

public class RepeatedStringsTests
{
    [Test]
    public void Share_EqualStringsReadApart_ReturnsTheFirstCopy()
    {
        var strings = new RepeatedStrings();
        var first = new string('7', 1);
        var second = new string('7', 1);

        Assert.Multiple(() =>
        {
            Assert.That(strings.Share(first), Is.SameAs(first));
            Assert.That(strings.Share(second), Is.SameAs(first));
            Assert.That(strings.Share(null), Is.Null);
        });
    }

    [Test]
    public void Share_LongStringsAndStringsPastTheBound_AreReturnedAsTheyAre()
    {
        var strings = new RepeatedStrings();
        var longOne = new string('x', RepeatedStrings.MaxLength + 1);
        for (var i = 0; i < RepeatedStrings.MaxKept; i++)
        {
            strings.Share($"class-{i}");
        }

        var late = string.Concat("late", "-class");

        Assert.Multiple(() =>
        {
            Assert.That(strings.Share(new string('x', RepeatedStrings.MaxLength + 1)), Is.Not.SameAs(longOne));
            Assert.That(strings.Share(late), Is.SameAs(late));
            Assert.That(strings.Share(string.Concat("late", "-class")), Is.Not.SameAs(late), "nothing is kept past the bound");
            Assert.That(strings.Share(string.Concat("class-", "5")), Is.SameAs(strings.Share("class-5")));
        });
    }

    [Test]
    public void FromStored_TwoRowsWithTheSameClassesAndVersion_ShareOneCopyOfEach()
    {
        var strings = new RepeatedStrings();
        const string Signals = """[{"signal":"mahalanobis","value":1,"percentile":0.5,"p":0.5}]""";
        const string Measurement = """{"mahalanobis":1,"nearest_class":"7","knn_distance":0.5,"disagreement":0.1,"neighbors":10,"other_class":"2","other_count":1}""";
        PersistedScore Row(long sequence) =>
            new(new ScorableRecord(sequence, $"r{sequence}", "production", [3, 4], new string('3', 1), null), string.Concat("v", "1"), Signals, Measurement, 0);

        var a = ScoreCodec.FromStored(Row(1), strings);
        var b = ScoreCodec.FromStored(Row(2), strings);

        Assert.Multiple(() =>
        {
            Assert.That(b.PredictedClass, Is.SameAs(a.PredictedClass));
            Assert.That(b.TrainingVersion, Is.SameAs(a.TrainingVersion));
            Assert.That(b.Measurement.NearestClass, Is.SameAs(a.Measurement.NearestClass));
            Assert.That(b.Measurement.Neighbors.DominantOtherClass, Is.SameAs(a.Measurement.Neighbors.DominantOtherClass));
            Assert.That((b.PredictedClass, b.TrainingVersion, b.Measurement.NearestClass), Is.EqualTo(("3", "v1", "7")));
        });
    }
}
