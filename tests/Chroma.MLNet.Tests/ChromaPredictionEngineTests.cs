using System.Globalization;
using Chroma.Tests.Support;
using Microsoft.ML;
using NUnit.Framework;

namespace Chroma.Tests.Interception;

[TestFixture]
[CancelAfter(30_000)]
public sealed class ChromaPredictionEngineTests
{
    private static readonly InvalidOperationException s_boom = new("boom");
    private MLContext _ml = null!;
    private ITransformer _model = null!;
    private ITransformer _keyModel = null!;
    private List<BlobRow> _rows = null!;
    private RecordingClient _recording = null!;

    [OneTimeSetUp]
    public void Train()
    {
        _ml = new MLContext(seed: 1);
        var data = _ml.Data.LoadFromEnumerable(Blobs.Generate(150));
        _model = Blobs.Pipeline(_ml).Fit(data);
        _keyModel = Blobs.Pipeline(_ml, mapBack: false).Fit(data);
        _rows = Blobs.Generate(12, seed: 99);
    }

    [SetUp]
    public void SetUp() => _recording = new RecordingClient();

    [TearDown]
    public async Task TearDown() => await _recording.DisposeAsync();

    private ChromaPredictionEngine<BlobRow, BlobPrediction> Wrap(Action<PredictionCaptureOptions<BlobRow, BlobPrediction>>? configure = null) =>
        _ml.Model.CreatePredictionEngine<BlobRow, BlobPrediction>(_model).WithChroma(_recording.Set(Blobs.Classes.Length), configure);

    [Test]
    public async Task Predict_Defaults_LogsScoreAsEmbeddingWithPredictedLabelAndProbabilities()
    {
        using var engine = Wrap();
        using var plain = _ml.Model.CreatePredictionEngine<BlobRow, BlobPrediction>(_model);

        var predictions = _rows.Select(engine.Predict).ToList();

        var expected = _rows.Select(plain.Predict).ToList();
        Assert.That(predictions.Select(p => p.PredictedLabel), Is.EqualTo(expected.Select(p => p.PredictedLabel)));
        Assert.That(predictions.Select(p => p.Score), Is.EqualTo(expected.Select(p => p.Score)));
        Assert.That(predictions.Select(p => p.PredictedLabel), Is.EqualTo(_rows.Select(r => r.Label)), "the blobs are separable");
        var records = await _recording.SentRecordsAsync();
        Assert.That(records, Has.Count.EqualTo(_rows.Count));
        for (var i = 0; i < records.Count; i++)
        {
            Assert.That(records[i].Dataset, Is.EqualTo(ChromaDatasets.Production));
            Assert.That(records[i].Embedding, Is.EqualTo(predictions[i].Score));
            Assert.That(records[i].Inference.ClassProbabilities, Is.EqualTo(predictions[i].Score));
            Assert.That(records[i].Inference.PredictedClass, Is.EqualTo(predictions[i].PredictedLabel));
        }
    }

    [Test]
    public async Task Predict_KeyOrderedScores_SendsTheScoreSlotNamesAsClassNames()
    {
        // The label keys follow first appearance (red, green, blue), so Score slot 0 is "red", not class "0".
        using var engine = Wrap();

        var predictions = _rows.Select(engine.Predict).ToList();

        var records = await _recording.SentRecordsAsync();
        Assert.That(records.Select(r => r.Inference.ClassNames.ToArray()), Has.All.EqualTo(Blobs.Classes));
        Assert.That(
            records.Select(r => r.Inference.ClassNames[r.Inference.ClassProbabilities.Select((p, i) => (p, i)).Max().i]),
            Is.EqualTo(predictions.Select(p => p.PredictedLabel)),
            "the most probable class by its name is the predicted class");
    }

    [Test]
    public async Task Predict_SetWithOtherClassNames_KeepsTheSetsAndReportsTheDifference()
    {
        string[] given = ["blue", "green", "red"];
        var set = _recording.Set(Blobs.Classes.Length, model: "named", classNames: given);
        using var engine = _ml.Model.CreatePredictionEngine<BlobRow, BlobPrediction>(_model).WithChroma(set);

        engine.Predict(_rows[0]);

        var record = (await _recording.SentRecordsAsync()).Single();
        Assert.That(record.Inference.ClassNames, Is.EqualTo(given), "names the caller gave are the caller's call");
        Assert.That(_recording.Client.CaptureErrorCount, Is.EqualTo(1), "the difference from the model's order is reported");
    }

    [Test]
    public async Task Predict_OwnProbabilitySelector_SendsNoScoreSlotNames()
    {
        var set = _recording.Set(Blobs.Classes.Length, model: "own-probabilities");
        using var engine = _ml.Model.CreatePredictionEngine<BlobRow, BlobPrediction>(_model).WithChroma(set, o =>
            o.ClassProbabilities = (_, output) => output.Score.Reverse().ToArray());

        engine.Predict(_rows[0]);

        var record = (await _recording.SentRecordsAsync()).Single();
        Assert.That(record.Inference.ClassProbabilities, Has.Count.EqualTo(Blobs.Classes.Length));
        Assert.That(record.Inference.ClassNames, Is.Empty, "the Score column's order says nothing of another selector's");
    }

    [Test]
    public async Task Predict_ScoresHoldNaN_RowKeepsItsEmbeddingWithoutProbabilities()
    {
        var set = _recording.Set(Blobs.Dimension, model: "nan-scores");
        using var engine = _ml.Model.CreatePredictionEngine<BlobRow, BlobPrediction>(_model).WithChroma(set, o =>
        {
            o.Embedding = (input, _) => input.Features;
            o.ClassProbabilities = (_, output) => output.Score.Skip(1).Prepend(float.NaN).ToArray();
        });

        var returned = engine.Predict(_rows[0]);

        var record = (await _recording.SentRecordsAsync()).Single();
        Assert.Multiple(() =>
        {
            Assert.That(record.Embedding, Is.EqualTo(_rows[0].Features), "a broken score does not cost the embedding");
            Assert.That(record.Inference.PredictedClass, Is.EqualTo(returned.PredictedLabel));
            Assert.That(record.Inference.ClassProbabilities, Is.Empty, "no NaN is sent");
            Assert.That(_recording.Client.CaptureErrorCount, Is.EqualTo(1), "the broken scores are reported");
        });
    }

    [Test]
    public async Task Predict_CustomSelectors_LogsInputFeaturesAndInputUri()
    {
        var set = _recording.Set(Blobs.Dimension, model: "features");
        using var engine = _ml.Model.CreatePredictionEngine<BlobRow, BlobPrediction>(_model).WithChroma(set, o =>
        {
            o.Embedding = (input, _) => input.Features;
            o.InputUri = (input, _) => input.Uri;
        });

        engine.Predict(_rows[0]);
        engine.Predict(_rows[1]);

        var records = await _recording.SentRecordsAsync();
        Assert.That(records.Select(r => r.Embedding.ToArray()), Is.EqualTo(new[] { _rows[0].Features, _rows[1].Features }));
        Assert.That(records.Select(r => r.InputUri), Is.EqualTo(new[] { _rows[0].Uri, _rows[1].Uri }));
    }

    [Test]
    public async Task Predict_RefOverload_FillsCallersObjectAndLogs()
    {
        using var engine = Wrap();
        var prediction = new BlobPrediction();
        var before = prediction;

        engine.Predict(_rows[2], ref prediction);

        Assert.That(prediction, Is.SameAs(before));
        Assert.That(prediction.PredictedLabel, Is.EqualTo(_rows[2].Label));
        var record = (await _recording.SentRecordsAsync()).Single();
        Assert.That(record.Inference.PredictedClass, Is.EqualTo(_rows[2].Label));
        Assert.That(record.Embedding, Is.EqualTo(prediction.Score));
    }

    [Test]
    public async Task Predict_KeyPredictedLabel_LogsClassNameFromKeyValuesAndFeaturesAsEmbedding()
    {
        var set = _recording.Set(Blobs.Dimension, model: "keys");
        using var engine = _ml.Model.CreatePredictionEngine<BlobRow, BlobKeyPrediction>(_keyModel).WithChroma(set);

        var prediction = engine.Predict(_rows[1]);

        var record = (await _recording.SentRecordsAsync()).Single();
        Assert.That(record.Inference.PredictedClass, Is.EqualTo(_rows[1].Label));
        Assert.That(record.Embedding, Is.EqualTo(prediction.Features));
        Assert.That(record.Inference.ClassProbabilities, Is.EqualTo(prediction.Score));
    }

    [Test]
    public void Predict_InnerThrows_SameExceptionInstanceAndNothingLogged()
    {
        var failing = Blobs.Pipeline(_ml)
            .Append(_ml.Transforms.CustomMapping<UriInput, UriCheck>((row, check) => check.UriChecked = row.Uri == "boom" ? throw s_boom : true, contractName: null))
            .Fit(_ml.Data.LoadFromEnumerable(Blobs.Generate(60)));
        using var engine = _ml.Model.CreatePredictionEngine<BlobRow, CheckedPrediction>(failing).WithChroma(_recording.Set(Blobs.Classes.Length));

        var thrown = Assert.Throws<InvalidOperationException>(() => engine.Predict(new BlobRow { Features = _rows[0].Features, Uri = "boom" }));

        Assert.That(thrown, Is.SameAs(s_boom));
        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public void Predict_SelectorThrows_CountedNotThrown()
    {
        using var engine = Wrap(o => o.InputUri = (input, _) => input.Uri[100..]);

        var prediction = engine.Predict(_rows[0]);

        Assert.That(prediction.PredictedLabel, Is.EqualTo(_rows[0].Label));
        Assert.That(_recording.Client.CaptureErrorCount, Is.EqualTo(1));
        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public void Predict_CaptureDisabled_NothingQueued()
    {
        using var engine = Wrap();
        _recording.Client.CaptureEnabled = false;

        var prediction = engine.Predict(_rows[0]);

        Assert.That(prediction.PredictedLabel, Is.EqualTo(_rows[0].Label));
        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public void Predict_InsideSuppressionScope_NothingQueued()
    {
        using var engine = Wrap();

        using (CaptureSuppression.Begin())
        {
            engine.Predict(_rows[0]);
        }

        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public void WithChroma_NoEmbeddingMember_ThrowsNamingEmbedding()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            _ml.Model.CreatePredictionEngine<BlobRow, UriCheck>(_model).WithChroma(_recording.Set(Blobs.Classes.Length)));

        Assert.That(error!.Message, Does.Contain("Embedding"));
    }

    [Test]
    public void PredictionCaptureOptions_NumericPredictedLabel_FormattedInvariant()
    {
        var options = new PredictionCaptureOptions<BlobRow, NumericPrediction>();

        var text = options.PredictedClass!(new BlobRow(), new NumericPrediction { PredictedLabel = 2.5f });

        Assert.That(text, Is.EqualTo(2.5f.ToString(CultureInfo.InvariantCulture)));
        Assert.That(options.Embedding, Is.Null);
    }

    public sealed class UriInput
    {
        public string Uri { get; set; } = string.Empty;
    }

    public sealed class UriCheck
    {
        public bool UriChecked { get; set; }
    }

    public sealed class CheckedPrediction
    {
        public float[] Score { get; set; } = [];

        public bool UriChecked { get; set; }
    }

    public sealed class NumericPrediction
    {
        public float PredictedLabel { get; set; }
    }
}
