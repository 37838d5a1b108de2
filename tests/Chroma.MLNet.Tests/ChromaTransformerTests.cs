using Chroma.Tests.Support;
using Microsoft.ML;
using NUnit.Framework;

namespace Chroma.Tests.Interception;

[TestFixture]
[CancelAfter(30_000)]
public sealed class ChromaTransformerTests
{
    private const int ScoredRows = 40;
    private MLContext _ml = null!;
    private ITransformer _model = null!;
    private List<BlobRow> _rows = null!;
    private IDataView _data = null!;
    private RecordingClient _recording = null!;
    private EmbeddingSet _set = null!;

    [OneTimeSetUp]
    public void Train()
    {
        _ml = new MLContext(seed: 1);
        _model = Blobs.Pipeline(_ml).Fit(_ml.Data.LoadFromEnumerable(Blobs.Generate(150)));
        _rows = Blobs.Generate(ScoredRows, seed: 42);
        _data = _ml.Data.LoadFromEnumerable(_rows);
    }

    [SetUp]
    public void SetUp()
    {
        _recording = new RecordingClient();
        _set = _recording.Set(Blobs.Dimension);
    }

    [TearDown]
    public async Task TearDown() => await _recording.DisposeAsync();

    private IDataView Score(Action<DataViewCaptureOptions>? configure = null) =>
        _model.WithChroma(_set, o =>
        {
            o.InputUriColumn = nameof(BlobRow.Uri);
            configure?.Invoke(o);
        }).Transform(_data);

    private List<BlobPrediction> Read(IDataView view) =>
        [.. _ml.Data.CreateEnumerable<BlobPrediction>(view, reuseRowObject: false)];

    [Test]
    public async Task Transform_ReadTwice_SameRowsAsUnwrappedAndEachRowLoggedOnce()
    {
        var scored = Score();

        var first = Read(scored);
        var second = Read(scored);

        var expected = Read(_model.Transform(_data));
        Assert.That(first.Select(p => p.PredictedLabel), Is.EqualTo(expected.Select(p => p.PredictedLabel)));
        Assert.That(second.Select(p => p.Score), Is.EqualTo(expected.Select(p => p.Score)));
        var records = await _recording.SentRecordsAsync();
        Assert.That(records.Select(r => r.InputUri), Is.EqualTo(_rows.Select(r => r.Uri)));
        for (var i = 0; i < records.Count; i++)
        {
            Assert.That(records[i].Dataset, Is.EqualTo(ChromaDatasets.Production));
            Assert.That(records[i].Embedding, Is.EqualTo(_rows[i].Features));
            Assert.That(records[i].Inference.PredictedClass, Is.EqualTo(expected[i].PredictedLabel));
            Assert.That(records[i].Inference.ClassProbabilities, Is.EqualTo(expected[i].Score));
            Assert.That(records[i].Label, Is.Empty);
        }
    }

    [Test]
    public async Task Transform_PartialReadThenFullRead_RemainingRowsLoggedOnce()
    {
        var scored = Score();

        _ = _ml.Data.CreateEnumerable<BlobPrediction>(scored, reuseRowObject: true).Take(10).ToList();
        Assert.That((await _recording.SentRecordsAsync()).Count, Is.InRange(10, 11), "rows are logged as they are read");
        Read(scored);

        var records = await _recording.SentRecordsAsync();
        Assert.That(records.Select(r => r.InputUri), Is.EqualTo(_rows.Select(r => r.Uri)));
    }

    [Test]
    public async Task Transform_ScoreAsEmbedding_LogsScores()
    {
        var scoreSet = _recording.Set(Blobs.Classes.Length, model: "score");
        var scored = _model.WithChroma(scoreSet, o => o.EmbeddingColumn = "Score").Transform(_data);

        var predictions = Read(scored);

        var records = await _recording.SentRecordsAsync();
        Assert.That(records.Select(r => r.Embedding.ToArray()), Is.EqualTo(predictions.Select(p => p.Score)));
    }

    [Test]
    public async Task Transform_KeyOrderedScores_SendsTheScoreSlotNamesAsClassNames()
    {
        // The label keys follow first appearance (red, green, blue), so Score slot 0 is "red", not class "0".
        var predictions = Read(_model.WithChroma(_set).Transform(_data));

        var records = await _recording.SentRecordsAsync();
        Assert.That(records, Has.Count.EqualTo(predictions.Count));
        Assert.That(records.Select(r => r.Inference.ClassNames.ToArray()), Has.All.EqualTo(Blobs.Classes));
        Assert.That(
            records.Select(r => r.Inference.ClassNames[r.Inference.ClassProbabilities.Select((p, i) => (p, i)).Max().i]),
            Is.EqualTo(records.Select(r => r.Inference.PredictedClass)),
            "the most probable class by its name is the predicted class");
    }

    [Test]
    public void Transform_MissingEmbeddingColumn_ReturnsWorkingViewAndReports()
    {
        var scored = Score(o => o.EmbeddingColumn = "Nope");

        var predictions = Read(scored);

        Assert.That(predictions, Has.Count.EqualTo(ScoredRows));
        Assert.That(_recording.Client.CaptureErrorCount, Is.EqualTo(1));
        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public void Transform_CaptureDisabled_NothingQueued()
    {
        var scored = Score();
        _recording.Client.CaptureEnabled = false;

        var predictions = Read(scored);

        Assert.That(predictions, Has.Count.EqualTo(ScoredRows));
        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public void Transform_InsideSuppressionScope_NothingQueued()
    {
        var scored = Score();

        using (CaptureSuppression.Begin())
        {
            Read(scored);
        }

        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public void Transform_InnerCursorThrows_SameExceptionAsUnwrappedView()
    {
        var boom = new InvalidOperationException("row failed");
        var failing = Blobs.Pipeline(_ml).Append(_ml.Transforms.CustomMapping<UriInput, UriCheck>(
            (row, check) => check.UriChecked = row.Uri == _rows[5].Uri ? throw boom : true,
            contractName: null)).Fit(_ml.Data.LoadFromEnumerable(Blobs.Generate(60)));
        List<CheckedPrediction> ReadChecked(IDataView view) => [.. _ml.Data.CreateEnumerable<CheckedPrediction>(view, reuseRowObject: true)];

        var plain = Assert.Throws<InvalidOperationException>(() => ReadChecked(failing.Transform(_data)));
        var wrapped = Assert.Throws<InvalidOperationException>(() => ReadChecked(failing.WithChroma(_set).Transform(_data)));

        // ML.NET itself may wrap a mapping's exception (its row consolidator does); the decorator adds nothing.
        Assert.That(wrapped!.Message, Is.EqualTo(plain!.Message));
        Assert.That(wrapped.InnerException ?? wrapped, Is.SameAs(boom));
        Assert.That(_recording.Client.CaptureErrorCount, Is.Zero);
    }

    [Test]
    public void Save_WrappedModel_SavesInnerModelThatLoadsAndScoresAlike()
    {
        var wrapped = _model.WithChroma(_set);
        using var stream = new MemoryStream();

        _ml.Model.Save(wrapped, _data.Schema, stream);
        stream.Position = 0;
        var loaded = _ml.Model.Load(stream, out _);

        Assert.That(loaded, Is.Not.InstanceOf<ChromaTransformer>());
        Assert.That(Read(loaded.Transform(_data)).Select(p => p.PredictedLabel), Is.EqualTo(Read(_model.Transform(_data)).Select(p => p.PredictedLabel)));
    }

    [Test]
    public void Transform_ShuffledCursor_RowsReadAndNotLogged()
    {
        var scored = Score();

        using var cursor = scored.GetRowCursor(scored.Schema, new Random(3));
        var rows = 0;
        while (cursor.MoveNext())
        {
            rows++;
        }

        Assert.That(rows, Is.EqualTo(ScoredRows));
        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
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
        public string PredictedLabel { get; set; } = string.Empty;

        public bool UriChecked { get; set; }
    }
}
