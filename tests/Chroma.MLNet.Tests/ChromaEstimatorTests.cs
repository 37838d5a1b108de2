using Chroma.Tests.Support;
using Microsoft.ML;
using NUnit.Framework;

namespace Chroma.Tests.Interception;

[TestFixture]
[CancelAfter(30_000)]
public sealed class ChromaEstimatorTests
{
    private const int TrainingRows = 300;
    private MLContext _ml = null!;
    private List<BlobRow> _rows = null!;
    private IDataView _data = null!;
    private RecordingClient _recording = null!;
    private EmbeddingSet _set = null!;

    [SetUp]
    public void SetUp()
    {
        _ml = new MLContext(seed: 1);
        _rows = Blobs.Generate(TrainingRows);
        _data = _ml.Data.LoadFromEnumerable(_rows);
        _recording = new RecordingClient(maxBatchSize: 64);
        _set = _recording.Set(Blobs.Dimension);
    }

    [TearDown]
    public async Task TearDown() => await _recording.DisposeAsync();

    [Test]
    public async Task Fit_RealPipeline_LogsEveryTrainingRowOnceWithLabelAcrossBatches()
    {
        var estimator = Blobs.Pipeline(_ml).WithChroma(_set, o => o.InputUriColumn = nameof(BlobRow.Uri));

        estimator.Fit(_data);

        var records = await _recording.SentRecordsAsync();
        Assert.That(records, Has.Count.EqualTo(TrainingRows));
        Assert.That(_recording.Factory.Batches, Has.Count.GreaterThanOrEqualTo(TrainingRows / 64));
        Assert.That(records.Select(r => r.InputUri), Is.EquivalentTo(_rows.Select(r => r.Uri)), "each row exactly once");
        var byUri = _rows.ToDictionary(r => r.Uri);
        foreach (var record in records)
        {
            var row = byUri[record.InputUri];
            Assert.That(record.Dataset, Is.EqualTo(ChromaDatasets.Training));
            Assert.That(record.Label, Is.EqualTo(row.Label));
            Assert.That(record.Embedding, Is.EqualTo(row.Features));
            Assert.That(record.Inference?.PredictedClass ?? string.Empty, Is.Empty);
        }
    }

    [Test]
    public void Fit_FewerRowsThanOneChunk_DeliveredWhenFitReturns()
    {
        // 300 rows, a chunk of 1,024: the last (here the only) partial chunk is waited for too, so a query right after
        // Fit finds the training rows (probe V: Exported was 0 when Fit returned).
        var estimator = Blobs.Pipeline(_ml).WithChroma(_set, o => o.InputUriColumn = nameof(BlobRow.Uri));

        estimator.Fit(_data);

        var statistics = _recording.Client.Statistics;
        Assert.That(statistics.Exported, Is.EqualTo(TrainingRows), $"received {statistics.Received}, queued {statistics.Queued}");
    }

    [Test]
    public async Task Fit_QueueSmallerThanTrainingSetWithDeliveryWait_EveryRowDeliveredOnce()
    {
        await using var small = new RecordingClient(maxBatchSize: 32, queueCapacity: 64);
        var estimator = Blobs.Pipeline(_ml).WithChroma(small.Set(Blobs.Dimension), o =>
        {
            o.InputUriColumn = nameof(BlobRow.Uri);
            o.ChunkSize = 48;
            o.DeliveryWait = TimeSpan.FromSeconds(10);
        });

        estimator.Fit(_data);

        var records = await small.SentRecordsAsync();
        Assert.That(records.Select(r => r.InputUri), Is.EquivalentTo(_rows.Select(r => r.Uri)));
        Assert.That(small.Client.Statistics.Dropped, Is.Zero);
    }

    [Test]
    public async Task Fit_DefaultChunkLargerThanTheQueueWithDeliveryWait_ChunkLoweredAndEveryRowDeliveredOnce()
    {
        // The default ChunkSize (1,024) against a queue of 64: the chunk is lowered to half the queue.
        await using var small = new RecordingClient(maxBatchSize: 16, queueCapacity: 64);
        var estimator = Blobs.Pipeline(_ml).WithChroma(small.Set(Blobs.Dimension), o =>
        {
            o.InputUriColumn = nameof(BlobRow.Uri);
            o.DeliveryWait = TimeSpan.FromSeconds(10);
        });

        estimator.Fit(_data);

        var records = await small.SentRecordsAsync();
        Assert.That(small.Client.QueueCapacity, Is.EqualTo(64));
        Assert.That(records.Select(r => r.InputUri), Is.EquivalentTo(_rows.Select(r => r.Uri)));
        Assert.That(small.Client.Statistics.Dropped, Is.Zero);
    }

    [Test]
    public async Task Fit_DefaultOptionsQueueSmallerThanTrainingSet_EveryRowDeliveredNoneDropped()
    {
        // Before, the default never waited: a training set larger than the queue lost the rows that found it full
        // (an outside probe lost 20,000 of 30,000 against a healthy local server).
        await using var small = new RecordingClient(maxBatchSize: 16, queueCapacity: 64);
        var estimator = Blobs.Pipeline(_ml).WithChroma(small.Set(Blobs.Dimension), o => o.InputUriColumn = nameof(BlobRow.Uri));

        estimator.Fit(_data);

        var records = await small.SentRecordsAsync();
        Assert.That(new DataViewCaptureOptions().DeliveryWait, Is.EqualTo(TimeSpan.FromSeconds(10)));
        Assert.That(records.Select(r => r.InputUri), Is.EquivalentTo(_rows.Select(r => r.Uri)));
        Assert.That(small.Client.Statistics.Dropped, Is.Zero);
    }

    [Test]
    public async Task Fit_ServerNeverAcknowledges_WaitsOnceThenQueuesTheRestCountingWhatIsDropped()
    {
        // The stream never takes a batch: the first wait times out, later chunks do not wait, Fit returns its model.
        await using var stuck = new RecordingClient(maxBatchSize: 16, queueCapacity: 64);
        stuck.Factory.WriteGate = new TaskCompletionSource();
        var estimator = Blobs.Pipeline(_ml).WithChroma(stuck.Set(Blobs.Dimension), o => o.DeliveryWait = TimeSpan.FromMilliseconds(200));

        var model = estimator.Fit(_data);

        var statistics = stuck.Client.Statistics;
        Assert.That(model, Is.Not.Null);
        Assert.That(statistics.Received, Is.EqualTo(TrainingRows));
        Assert.That(statistics.Dropped, Is.GreaterThan(0), "rows that found the queue full are counted");
        Assert.That(stuck.Client.CaptureErrorCount, Is.EqualTo(1), "the timed-out wait is reported once");
        stuck.Factory.WriteGate.SetResult();
    }

    [Test]
    public async Task WithChroma_DeliveryWaitLongerThanATimerTakes_ThrowsNamingFieldRatherThanCapturingOneChunk()
    {
        // Arrange: TimeSpan.MaxValue for "wait as long as it takes"; a queue of 64, so training rows come in chunks of 32.
        await using var small = new RecordingClient(maxBatchSize: 16, queueCapacity: 64);
        ArgumentOutOfRangeException? error = null;

        // Act: accepted, the first chunk's wait threw inside capture, and the rest of the training set was not captured.
        try
        {
            Blobs.Pipeline(_ml).WithChroma(small.Set(Blobs.Dimension), o => o.DeliveryWait = TimeSpan.MaxValue).Fit(_data);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            error = ex;
        }

        var records = await small.SentRecordsAsync();

        // Assert
        Assert.That(error?.ParamName, Is.EqualTo(nameof(DataViewCaptureOptions.DeliveryWait)), $"refused up front (accepted, Fit captured {records.Count} of {TrainingRows} rows)");
    }

    [Test]
    public void WithChroma_BadChunking_ThrowsNamingField()
    {
        var chunk = Assert.Throws<ArgumentOutOfRangeException>(() => Blobs.Pipeline(_ml).WithChroma(_set, o => o.ChunkSize = 0));
        var wait = Assert.Throws<ArgumentOutOfRangeException>(() => Blobs.Pipeline(_ml).WithChroma(_set, o => o.DeliveryWait = TimeSpan.FromSeconds(-1)));

        Assert.That(chunk!.ParamName, Is.EqualTo(nameof(DataViewCaptureOptions.ChunkSize)));
        Assert.That(wait!.ParamName, Is.EqualTo(nameof(DataViewCaptureOptions.DeliveryWait)));
    }

    [Test]
    public void Fit_ReturnsTheInnerModelInstance()
    {
        var inner = new ObservedEstimator(Blobs.Pipeline(_ml));

        var model = inner.WithChroma(_set).Fit(_data);

        Assert.That(model, Is.SameAs(inner.LastModel));
    }

    [Test]
    public void Fit_InnerThrows_SameExceptionInstanceAndNothingLogged()
    {
        var boom = new InvalidOperationException("training failed");
        var inner = new ObservedEstimator(Blobs.Pipeline(_ml), boom);

        var thrown = Assert.Throws<InvalidOperationException>(() => inner.WithChroma(_set).Fit(_data));

        Assert.That(thrown, Is.SameAs(boom));
        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public void Fit_MissingEmbeddingColumn_ReportedAndModelReturned()
    {
        var model = Blobs.Pipeline(_ml).WithChroma(_set, o => o.EmbeddingColumn = "Nope").Fit(_data);

        Assert.That(model, Is.Not.Null);
        Assert.That(_recording.Client.CaptureErrorCount, Is.EqualTo(1));
        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public void Fit_CaptureDisabled_NothingQueued()
    {
        _recording.Client.CaptureEnabled = false;

        Blobs.Pipeline(_ml).WithChroma(_set).Fit(_data);

        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public void Fit_InsideSuppressionScope_NothingQueued()
    {
        var estimator = Blobs.Pipeline(_ml).WithChroma(_set);

        using (CaptureSuppression.Begin())
        {
            estimator.Fit(_data);
        }

        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public void WithChroma_InvalidDataset_ThrowsNamingDataset()
    {
        var error = Assert.Throws<ArgumentException>(() => Blobs.Pipeline(_ml).WithChroma(_set, o => o.Dataset = "bad name"));

        Assert.That(error!.ParamName, Is.EqualTo(nameof(DataViewCaptureOptions.Dataset)));
    }

    /// <summary>Forwards to a real estimator, remembering the model it returned, or throws a given exception.</summary>
    private sealed class ObservedEstimator(IEstimator<ITransformer> inner, Exception? failure = null) : IEstimator<ITransformer>
    {
        public ITransformer? LastModel { get; private set; }

        public ITransformer Fit(IDataView input)
        {
            if (failure is not null)
            {
                throw failure;
            }

            LastModel = inner.Fit(input);
            return LastModel;
        }

        public SchemaShape GetOutputSchema(SchemaShape inputSchema) => inner.GetOutputSchema(inputSchema);
    }
}
