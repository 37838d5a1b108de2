using System.Text.Json;
using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Scheduling;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

public class StoredScoreJsonTests
{
    // A row as a server stored it (outside-in probe K, 1.44 million records), before this reader replaced JsonDocument.
    private const string StoredSignals =
        """[{"signal":"mahalanobis","value":10.214520454406738,"percentile":0.23584277148567623,"p":0.7643142476697736},{"signal":"knn_distance","value":69.9115478515625,"percentile":0.18187874750166555,"p":0.818242343541944},{"signal":"boundary","value":0,"percentile":0,"p":1},{"signal":"entropy","value":1.8453017585932212,"percentile":0.7734843437708194,"p":0.2270306258322237},{"signal":"margin","value":0.8452830141129077,"percentile":0.759493670886076,"p":0.24101198402130491},{"signal":"least_confidence","value":0.6318561078436242,"percentile":0.7581612258494337,"p":0.24234354194407456},{"signal":"relative_mahalanobis","value":-4.257364424091065,"percentile":0.18121252498334445,"p":0.8189081225033289},{"signal":"feature_norm","value":0.07503088252412071,"percentile":0.8787475016655563,"p":0.1218375499334221},{"signal":"production_shift","value":0.26382505893707275,"percentile":0.8154563624250499,"p":0.18508655126498003,"lead":0.6981034370743062}]""";

    private const string StoredMeasurement =
        """{"mahalanobis":10.214520454406738,"relative_mahalanobis":-4.257364424091065,"nearest_training_distance":0.18470990269582044,"norm_shortfall":0.07503088252412071,"nearest_class":"7","knn_distance":69.9115478515625,"disagreement":0,"neighbors":10}""";

    [Test]
    public void ReadSignals_AStoredRow_ReadsEverySignalInOrderWithItsLead()
    {
        var signals = StoredScoreJson.ReadSignals(StoredSignals, out var lead, out var factor);

        Assert.Multiple(() =>
        {
            Assert.That(signals.Select(s => s.Kind), Is.EqualTo(new[]
            {
                SignalKind.Mahalanobis, SignalKind.KnnDistance, SignalKind.Boundary, SignalKind.Entropy, SignalKind.Margin,
                SignalKind.LeastConfidence, SignalKind.RelativeMahalanobis, SignalKind.FeatureNorm, SignalKind.ProductionShift,
            }));
            Assert.That(signals[0], Is.EqualTo(new SignalScore(SignalKind.Mahalanobis, 10.214520454406738, 0.23584277148567623, 0.7643142476697736)));
            Assert.That(signals[6].Value, Is.EqualTo(-4.257364424091065));
            Assert.That(signals[8].PValue, Is.EqualTo(0.18508655126498003));
            Assert.That(lead, Is.EqualTo(0.6981034370743062));
            Assert.That(factor, Is.EqualTo(1), "no factor stored: the boundary signal keeps its whole weight");
        });
    }

    [Test]
    public void ReadMeasurement_AStoredRow_ReadsEveryField()
    {
        var measurement = StoredScoreJson.ReadMeasurement(StoredMeasurement);

        Assert.That(measurement, Is.EqualTo(new EmbeddingMeasurement(10.214520454406738, "7", new NeighborSignals(69.9115478515625, 0, 10, null, 0))
        {
            RelativeMahalanobis = -4.257364424091065,
            NearestTrainingDistance = 0.18470990269582044,
            NormShortfall = 0.07503088252412071,
        }));
    }

    [Test]
    public void Read_PropertiesALaterVersionMightAdd_AreSkipped()
    {
        const string signals = """[{"new":{"a":[1,{"b":2}]},"signal":"boundary","value":0.5,"percentile":0.25,"p":0.75,"factor":0.5,"note":"x"}]""";
        const string measurement = """{"extra":[1,2,3],"mahalanobis":2,"nearest_class":"a","knn_distance":0.5,"disagreement":0.1,"neighbors":10,"other_class":"b","other_count":3,"more":{"c":null}}""";

        var read = StoredScoreJson.ReadSignals(signals, out var lead, out var factor);
        var measured = StoredScoreJson.ReadMeasurement(measurement);

        Assert.Multiple(() =>
        {
            Assert.That(read, Is.EqualTo(new[] { new SignalScore(SignalKind.Boundary, 0.5, 0.25, 0.75) }));
            Assert.That(lead, Is.Null);
            Assert.That(factor, Is.EqualTo(0.5));
            Assert.That(measured.Neighbors, Is.EqualTo(new NeighborSignals(0.5, 0.1, 10, "b", 3)));
        });
    }

    [Test]
    public void ReadSignals_MoreEntriesThanKinds_KeepsThemAll()
    {
        var entries = Enumerable.Range(0, 20).Select(i => $$"""{"signal":"margin","value":{{i}},"percentile":0.5,"p":0.5}""");

        var read = StoredScoreJson.ReadSignals($"[{string.Join(',', entries)}]", out _, out _);

        Assert.That(read.Select(s => s.Value), Is.EqualTo(Enumerable.Range(0, 20).Select(i => (double)i)));
    }

    [Test]
    public void ReadSignals_EmptyArray_ReadsNoSignals()
    {
        Assert.That(StoredScoreJson.ReadSignals("[]", out _, out _), Is.Empty);
    }

    [TestCase("""[{"signal":"margin","value":1,"percentile":0.5}]""", "lacks one of")]
    [TestCase("""[{"signal":"gravity","value":1,"percentile":0.5,"p":0.5}]""", "unknown kind: gravity")]
    [TestCase("""[{"signal":3,"value":1,"percentile":0.5,"p":0.5}]""", "unknown kind: Number")]
    [TestCase("""{"signal":"margin"}""", "starts with StartObject, not StartArray")]
    [TestCase("""[1]""", "is a Number, not an object")]
    [TestCase("""[{"signal":"margin","value":1""", "")]
    public void ReadSignals_BrokenRow_ThrowsJsonExceptionSayingWhy(string json, string why)
    {
        var thrown = Assert.Throws(Is.InstanceOf<JsonException>(), () => StoredScoreJson.ReadSignals(json, out _, out _));

        Assert.That(thrown!.Message, Does.Contain(why));
    }

    [TestCase("""{"mahalanobis":2,"knn_distance":0.5,"disagreement":0.1,"neighbors":10}""", "lacks one of")]
    [TestCase("""{"mahalanobis":2,"nearest_class":"a","knn_distance":0.5,"disagreement":0.1,"neighbors":10,"other_class":"b"}""", "\"other_count\" beside")]
    [TestCase("""[]""", "starts with StartArray, not StartObject")]
    [TestCase("""{"mahalanobis":2,"nearest_class":null,"knn_distance":0.5,"disagreement":0.1,"neighbors":10}""", "class name is null")]
    public void ReadMeasurement_BrokenRow_ThrowsJsonExceptionSayingWhy(string json, string why)
    {
        var thrown = Assert.Throws(Is.InstanceOf<JsonException>(), () => StoredScoreJson.ReadMeasurement(json));

        Assert.That(thrown!.Message, Does.Contain(why));
    }
}
