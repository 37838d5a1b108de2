using Chroma.Internal;
using Chroma.Tests.Support;
using NUnit.Framework;

namespace Chroma.Tests.Interception;

public interface ITextEmbedder
{
    float[] Embed(string text);

    float[] Embed(string text, int repeat);

    Task<float[]> EmbedAsync(string text);

    ValueTask<float[]> EmbedValueAsync(string text);

    int Length(string text);

    bool TryEmbed(string text, out float[] embedding);
}

[TestFixture]
[CancelAfter(20_000)]
public sealed class ChromaProxyTests
{
    private RecordingClient _recording = null!;
    private EmbeddingSet _set = null!;
    private LengthEmbedder _inner = null!;

    [SetUp]
    public void SetUp()
    {
        _recording = new RecordingClient();
        _set = _recording.Set(dimension: 2);
        _inner = new LengthEmbedder();
    }

    [TearDown]
    public async Task TearDown() => await _recording.DisposeAsync();

    private ITextEmbedder CreateProxy(Action<CaptureOptions<object?[], float[]>>? extra = null) =>
        ChromaProxy.Create<ITextEmbedder>(_inner, _set, p => p
            .Capture<float[]>(nameof(ITextEmbedder.Embed), o =>
            {
                o.Embedding = (_, result) => result;
                o.InputUri = (args, _) => (string)args[0]!;
                extra?.Invoke(o);
            })
            .Capture<float[]>(nameof(ITextEmbedder.EmbedAsync), o => o.Embedding = (_, result) => result)
            .Capture<float[]>(typeof(ITextEmbedder).GetMethod(nameof(ITextEmbedder.EmbedValueAsync))!, o => o.Embedding = (_, result) => result));

    [Test]
    public async Task Create_CapturedOverloads_ForwardAndLogArgumentsAndResult()
    {
        var proxy = CreateProxy(o => o.PredictedClass = (args, _) => args.Length == 2 ? "repeated" : "single");

        var single = proxy.Embed("abc");
        var repeated = proxy.Embed("ab", 3);

        Assert.That(single, Is.EqualTo(new[] { 3f, 1f }));
        Assert.That(repeated, Is.EqualTo(new[] { 2f, 3f }));
        var records = await _recording.SentRecordsAsync();
        Assert.That(records.Select(r => (r.InputUri, r.Inference.PredictedClass, r.Embedding.ToArray())), Is.EquivalentTo(new[]
        {
            ("abc", "single", new[] { 3f, 1f }),
            ("ab", "repeated", new[] { 2f, 3f }),
        }));
    }

    [Test]
    public async Task Create_MethodNotChosen_ForwardedAndNotLogged()
    {
        var proxy = CreateProxy();

        var length = proxy.Length("hello");
        var found = proxy.TryEmbed("xy", out var embedding);

        Assert.That(length, Is.EqualTo(5));
        Assert.That(found, Is.True);
        Assert.That(embedding, Is.EqualTo(new[] { 2f, 1f }));
        Assert.That(await _recording.SentRecordsAsync(), Is.Empty);
    }

    [Test]
    public async Task Create_AsyncMethods_LoggedOnCompletionWithSameResults()
    {
        var proxy = CreateProxy();

        var fromTask = await proxy.EmbedAsync("abcd");
        var fromValueTask = await proxy.EmbedValueAsync("a");

        Assert.That(fromTask, Is.EqualTo(new[] { 4f, 1f }));
        Assert.That(fromValueTask, Is.EqualTo(new[] { 1f, 1f }));
        var records = await _recording.SentRecordsAsync();
        Assert.That(records.Select(r => r.Embedding.ToArray()), Is.EquivalentTo(new[] { new[] { 4f, 1f }, new[] { 1f, 1f } }));
    }

    [Test]
    public void Create_InnerThrows_SameExceptionInstanceUnwrapped()
    {
        var proxy = CreateProxy();

        var thrown = Assert.Throws<ArgumentException>(() => proxy.Embed(""));
        var thrownAsync = Assert.ThrowsAsync<ArgumentException>(async () => await proxy.EmbedAsync(""));
        var thrownUncaptured = Assert.Throws<ArgumentException>(() => proxy.Length(""));

        Assert.That(thrown, Is.SameAs(LengthEmbedder.EmptyText));
        Assert.That(thrownAsync, Is.SameAs(LengthEmbedder.EmptyText));
        Assert.That(thrownUncaptured, Is.SameAs(LengthEmbedder.EmptyText));
        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public void Create_SelectorThrows_CountedNotThrown()
    {
        var proxy = CreateProxy(o => o.Label = (args, _) => ((string)args[0]!)[10..]);

        var result = proxy.Embed("abc");

        Assert.That(result, Is.EqualTo(new[] { 3f, 1f }));
        Assert.That(_recording.Client.CaptureErrorCount, Is.EqualTo(1));
        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public void Create_CaptureDisabled_NothingQueued()
    {
        var proxy = CreateProxy();
        _recording.Client.CaptureEnabled = false;

        var result = proxy.Embed("abc");

        Assert.That(result, Is.EqualTo(new[] { 3f, 1f }));
        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public void Create_InsideSuppressionScope_NothingQueued()
    {
        var proxy = CreateProxy();

        using (CaptureSuppression.Begin())
        {
            proxy.Embed("abc");
        }

        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public void Create_NoMethodChosen_ReturnsInnerItself()
    {
        var proxy = ChromaProxy.Create<ITextEmbedder>(_inner, _set, _ => { });

        Assert.That(proxy, Is.SameAs(_inner));
    }

    [Test]
    public void Capture_UnknownMethodOrResultType_ThrowsNamingMethod()
    {
        var unknown = Assert.Throws<ArgumentException>(() =>
            ChromaProxy.Create<ITextEmbedder>(_inner, _set, p => p.Capture<float[]>("Missing", o => o.Embedding = (_, r) => r)));
        var wrongType = Assert.Throws<ArgumentException>(() =>
            ChromaProxy.Create<ITextEmbedder>(_inner, _set, p => p.Capture<float[]>(nameof(ITextEmbedder.Length), o => o.Embedding = (_, r) => r)));

        Assert.That(unknown!.Message, Does.Contain("Missing"));
        Assert.That(wrongType!.Message, Does.Contain(nameof(ITextEmbedder.Length)));
    }

    /// <summary>Embeds a text as [length, repeat]; empty text is an error.</summary>
    private sealed class LengthEmbedder : ITextEmbedder
    {
        public static readonly ArgumentException EmptyText = new("Text must not be empty.", "text");

        public float[] Embed(string text) => Embed(text, 1);

        public float[] Embed(string text, int repeat) => text.Length == 0 ? throw EmptyText : [text.Length, repeat];

        public async Task<float[]> EmbedAsync(string text)
        {
            await Task.Yield();
            return Embed(text);
        }

        public ValueTask<float[]> EmbedValueAsync(string text) => new(Embed(text));

        public int Length(string text) => text.Length == 0 ? throw EmptyText : text.Length;

        public bool TryEmbed(string text, out float[] embedding)
        {
            embedding = Embed(text);
            return true;
        }
    }
}
