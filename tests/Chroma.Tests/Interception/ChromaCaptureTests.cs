using NUnit.Framework;
using Chroma.Internal;
using Chroma.Tests.Support;

namespace Chroma.Tests.Interception;

[TestFixture]
[CancelAfter(20_000)]
public sealed class ChromaCaptureTests
{
    private RecordingClient _recording = null!;
    private EmbeddingSet _set = null!;

    [SetUp]
    public void SetUp()
    {
        _recording = new RecordingClient();
        _set = _recording.Set(dimension: 3);
    }

    [TearDown]
    public async Task TearDown() => await _recording.DisposeAsync();

    private static float[] Embed(float x) => [x, x * 2, x * 3];

    private Func<float, float[]> WrapEmbed(Action<CaptureOptions<float, float[]>>? extra = null) =>
        ChromaCapture.Wrap<float, float[]>(Embed, _set, o =>
        {
            o.Embedding = (_, output) => output;
            extra?.Invoke(o);
        });

    [Test]
    public async Task Wrap_SyncCall_ReturnsResultAndLogsAllSelectors()
    {
        var wrapped = WrapEmbed(o =>
        {
            o.PredictedClass = (x, _) => x > 1 ? "big" : "small";
            o.ClassProbabilities = (_, _) => new[] { 0.25f, 0.75f };
            o.Label = (_, _) => "truth";
            o.InputUri = (x, _) => $"mem://{x}";
            o.Metadata = (_, _) => new Dictionary<string, string> { ["k"] = "v" };
            o.Dataset = "canary";
        });

        var result = wrapped(2f);

        Assert.That(result, Is.EqualTo(new[] { 2f, 4f, 6f }));
        var record = (await _recording.SentRecordsAsync()).Single();
        Assert.That(record.Embedding, Is.EqualTo(new[] { 2f, 4f, 6f }));
        Assert.That(record.Dataset, Is.EqualTo("canary"));
        Assert.That(record.Inference.PredictedClass, Is.EqualTo("big"));
        Assert.That(record.Inference.ClassProbabilities, Is.EqualTo(new[] { 0.25f, 0.75f }));
        Assert.That(record.Label, Is.EqualTo("truth"));
        Assert.That(record.InputUri, Is.EqualTo("mem://2"));
        Assert.That(record.Metadata["k"], Is.EqualTo("v"));
    }

    [Test]
    public void Wrap_FunctionThrows_SameExceptionInstanceAndNothingLogged()
    {
        var boom = new InvalidOperationException("boom");
        var wrapped = ChromaCapture.Wrap<float, float[]>(_ => throw boom, _set, o => o.Embedding = (_, output) => output);

        var thrown = Assert.Throws<InvalidOperationException>(() => wrapped(1f));

        Assert.That(thrown, Is.SameAs(boom));
        Assert.That(thrown!.StackTrace, Does.Contain(nameof(Wrap_FunctionThrows_SameExceptionInstanceAndNothingLogged)));
        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public void Wrap_SelectorThrows_CountedNotThrownAndResultUnchanged()
    {
        var wrapped = WrapEmbed(o => o.InputUri = (_, _) => throw new FormatException("bad selector"));

        var result = wrapped(1f);

        Assert.That(result, Is.EqualTo(new[] { 1f, 2f, 3f }));
        Assert.That(_recording.Client.CaptureErrorCount, Is.EqualTo(1));
        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public void Wrap_WrongDimension_CountedNotThrown()
    {
        var wrapped = ChromaCapture.Wrap<float, float[]>(x => [x], _set, o => o.Embedding = (_, output) => output);

        var result = wrapped(5f);

        Assert.That(result, Is.EqualTo(new[] { 5f }));
        Assert.That(_recording.Client.CaptureErrorCount, Is.EqualTo(1));
        Assert.That(_recording.Client.Statistics.DroppedInvalid, Is.EqualTo(1));
    }

    [Test]
    public void Wrap_CaptureDisabled_NothingQueuedAndSelectorsNotRun()
    {
        var selectorRuns = 0;
        var wrapped = ChromaCapture.Wrap<float, float[]>(Embed, _set, o => o.Embedding = (_, output) =>
        {
            selectorRuns++;
            return output;
        });
        _recording.Client.CaptureEnabled = false;

        var result = wrapped(1f);

        Assert.That(result, Is.EqualTo(new[] { 1f, 2f, 3f }));
        Assert.That(selectorRuns, Is.Zero);
        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public void Wrap_InsideSuppressionScope_NothingQueued()
    {
        var wrapped = WrapEmbed();

        using (CaptureSuppression.Begin())
        {
            wrapped(1f);
        }

        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public async Task Wrap_ClientDisposed_ResultUnchangedAndNothingThrown()
    {
        var wrapped = WrapEmbed();
        await _recording.Client.DisposeAsync();

        var result = wrapped(3f);

        Assert.That(result, Is.EqualTo(new[] { 3f, 6f, 9f }));
        Assert.That(_recording.Client.Statistics.Dropped, Is.EqualTo(1));
    }

    [Test]
    public void Wrap_NoEmbeddingSelector_ThrowsNamingEmbedding()
    {
        var error = Assert.Throws<ArgumentException>(() => ChromaCapture.Wrap<float, float[]>(Embed, _set, _ => { }));

        Assert.That(error!.Message, Does.Contain("Embedding"));
    }

    [Test]
    public void Wrap_InvalidDataset_ThrowsNamingDataset()
    {
        var error = Assert.Throws<ArgumentException>(() => WrapEmbed(o => o.Dataset = "no spaces"));

        Assert.That(error!.ParamName, Is.EqualTo("Dataset"));
    }

    [Test]
    public async Task WrapTask_CompletesLater_ReturnsSameTaskAndLogsOnCompletion()
    {
        var completion = new TaskCompletionSource<float[]>();
        var wrapped = ChromaCapture.WrapTask<float, float[]>(_ => completion.Task, _set, o => o.Embedding = (_, output) => output);

        var task = wrapped(1f);
        Assert.That(task, Is.SameAs(completion.Task));
        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
        completion.SetResult([7f, 8f, 9f]);
        var result = await task;

        Assert.That(result, Is.EqualTo(new[] { 7f, 8f, 9f }));
        var records = await _recording.SentRecordsAsync();
        Assert.That(records.Single().Embedding, Is.EqualTo(new[] { 7f, 8f, 9f }));
    }

    [Test]
    public async Task WrapTask_Faults_SameExceptionAndNothingLogged()
    {
        var boom = new TimeoutException("late");
        var wrapped = ChromaCapture.WrapTask<float, float[]>(async _ =>
        {
            await Task.Yield();
            throw boom;
        }, _set, o => o.Embedding = (_, output) => output);

        var thrown = Assert.ThrowsAsync<TimeoutException>(async () => await wrapped(1f));

        Assert.That(thrown, Is.SameAs(boom));
        await _recording.Client.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public async Task WrapValueTask_PendingAndCompleted_BothLoggedWithSameResults()
    {
        var completion = new TaskCompletionSource<float[]>();
        var wrapped = ChromaCapture.WrapValueTask<float, float[]>(
            x => x > 0 ? new ValueTask<float[]>(Embed(x)) : new ValueTask<float[]>(completion.Task),
            _set,
            o => o.Embedding = (_, output) => output);

        var immediate = await wrapped(1f);
        var pending = wrapped(-1f);
        completion.SetResult([4f, 5f, 6f]);
        var later = await pending;

        Assert.That(immediate, Is.EqualTo(new[] { 1f, 2f, 3f }));
        Assert.That(later, Is.EqualTo(new[] { 4f, 5f, 6f }));
        var records = await _recording.SentRecordsAsync();
        Assert.That(records.Select(r => r.Embedding.ToArray()), Is.EquivalentTo(new[] { new[] { 1f, 2f, 3f }, new[] { 4f, 5f, 6f } }));
    }

    [Test]
    public async Task WrapValueTask_Faults_SameExceptionInstance()
    {
        var boom = new InvalidDataException("bad");
        var wrapped = ChromaCapture.WrapValueTask<float, float[]>(
            _ => ValueTask.FromException<float[]>(boom),
            _set,
            o => o.Embedding = (_, output) => output);

        var thrown = Assert.ThrowsAsync<InvalidDataException>(async () => await wrapped(1f));

        Assert.That(thrown, Is.SameAs(boom));
        await _recording.Client.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }
}
