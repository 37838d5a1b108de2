using Chroma.Tests.Support;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;

namespace Chroma.Tests.Interception;

[TestFixture]
[CancelAfter(20_000)]
public sealed class ChromaEmbeddingGeneratorTests
{
    private RecordingClient _recording = null!;
    private EmbeddingSet _set = null!;
    private LetterCountGenerator _inner = null!;

    [SetUp]
    public void SetUp()
    {
        _recording = new RecordingClient();
        _set = _recording.Set(dimension: 3);
        _inner = new LetterCountGenerator();
    }

    [TearDown]
    public async Task TearDown()
    {
        _inner.Dispose();
        await _recording.DisposeAsync();
    }

    [Test]
    public async Task GenerateAsync_Batch_ReturnsInnerResultAndLogsEachTextInMetadata()
    {
        using var generator = _inner.WithChroma(_set);

        var result = await generator.GenerateAsync(["aab", "ccc"]);

        Assert.That(result.Select(e => e.Vector.ToArray()), Is.EqualTo(new[] { new[] { 2f, 1f, 0f }, new[] { 0f, 0f, 3f } }));
        var records = await _recording.SentRecordsAsync();
        Assert.That(records.Select(r => (r.Dataset, r.Metadata[ChromaEmbeddingGeneratorOptions.TextMetadataKey], r.Embedding.ToArray())), Is.EquivalentTo(new[]
        {
            (ChromaDatasets.Production, "aab", new[] { 2f, 1f, 0f }),
            (ChromaDatasets.Production, "ccc", new[] { 0f, 0f, 3f }),
        }));
    }

    [Test]
    public async Task GenerateAsync_InnerCompletesOnAnotherThread_RecordQueuedBeforeTheAwaitReturns()
    {
        var inner = new GatedGenerator();
        using var generator = inner.WithChroma(_set);

        var call = generator.GenerateAsync(["ab", "c"]);
        _ = Task.Run(inner.Complete);
        await call;
        var receivedWhenTheAwaitReturned = _recording.Client.Statistics.Received;
        await _recording.Client.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(receivedWhenTheAwaitReturned, Is.EqualTo(2), "both records are queued before the caller resumes");
            Assert.That(_recording.Factory.Records.Select(r => r.Metadata[ChromaEmbeddingGeneratorOptions.TextMetadataKey]), Is.EquivalentTo(new[] { "ab", "c" }), "a flush right after the call includes them");
        });
    }

    [Test]
    public async Task UseChroma_DescriptorWithClientInServices_LogsToThatClientsSet()
    {
        var services = new ServiceCollection().AddSingleton(_recording.Client);
        await using var provider = services.BuildServiceProvider();
        using var generator = new EmbeddingGeneratorBuilder<string, Embedding<float>>(_inner)
            .UseChroma(new EmbeddingSetDescriptor("from-services", "1", "text", 3))
            .Build(provider);

        await generator.GenerateAsync(["abc"]);

        var records = await _recording.SentRecordsAsync();
        Assert.That(_recording.Factory.Batches.Select(b => b.Set.Model).Distinct(), Is.EqualTo(new[] { "from-services" }));
        Assert.That(records.Single().Embedding.ToArray(), Is.EqualTo(new[] { 1f, 1f, 1f }));
    }

    [Test]
    public async Task UseChroma_DescriptorWithoutClientInServices_ThrowsNamingAddChroma()
    {
        await using var provider = new ServiceCollection().BuildServiceProvider();
        var builder = new EmbeddingGeneratorBuilder<string, Embedding<float>>(_inner)
            .UseChroma(new EmbeddingSetDescriptor("from-services", "1", "text", 3));

        Assert.That(() => builder.Build(provider), Throws.InvalidOperationException.With.Message.Contains("AddChroma"));
    }

    [Test]
    public async Task UseChroma_InBuilderPipeline_LogsWhatTheInnerGeneratorReturns()
    {
        using var generator = new EmbeddingGeneratorBuilder<string, Embedding<float>>(_inner)
            .UseChroma(_set, o => o.Dataset = "canary")
            .Build();

        var result = await generator.GenerateAsync(["ab"]);

        var records = await _recording.SentRecordsAsync();
        Assert.Multiple(() =>
        {
            Assert.That(result.Single().Vector.ToArray(), Is.EqualTo(new[] { 1f, 1f, 0f }));
            Assert.That(records.Single().Dataset, Is.EqualTo("canary"));
            Assert.That(records.Single().Embedding.ToArray(), Is.EqualTo(new[] { 1f, 1f, 0f }));
            Assert.That(generator.GetService<ChromaEmbeddingGenerator>(), Is.Not.Null, "the middleware is in the pipeline");
        });
    }

    [TestCase(4, "abc")]
    [TestCase(5, "abc\U0001F600")]
    [TestCase(1, "")]
    public async Task GenerateAsync_LimitFallsInsideASurrogatePair_CutBeforeThePair(int limit, string expected)
    {
        using var generator = _inner.WithChroma(_set, o => o.MaxTextLength = limit);

        await generator.GenerateAsync(limit == 1 ? ["\U0001F600abc"] : ["abc\U0001F600abc"]);

        var record = (await _recording.SentRecordsAsync()).Single();
        Assert.That(record.Metadata[ChromaEmbeddingGeneratorOptions.TextMetadataKey], Is.EqualTo(expected));
    }

    [Test]
    public async Task GenerateAsync_InputUriAndLimit_TextTruncatedIntoInputUri()
    {
        using var generator = _inner.WithChroma(_set, o =>
        {
            o.InputText = InputTextCapture.InputUri;
            o.MaxTextLength = 4;
            o.Dataset = "validation";
        });

        await generator.GenerateAsync(LazyTexts());

        var record = (await _recording.SentRecordsAsync()).Single();
        Assert.That(record.InputUri, Is.EqualTo("abca"));
        Assert.That(record.Metadata, Is.Empty);
        Assert.That(record.Dataset, Is.EqualTo("validation"));
        Assert.That(_inner.Calls, Is.EqualTo(1));
    }

    [Test]
    public void GenerateAsync_InnerThrows_SameExceptionInstance()
    {
        using var generator = _inner.WithChroma(_set);

        var thrown = Assert.ThrowsAsync<InvalidOperationException>(async () => await generator.GenerateAsync(["boom"]));

        Assert.That(thrown, Is.SameAs(LetterCountGenerator.Boom));
        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public async Task GenerateAsync_WrongDimension_CountedNotThrown()
    {
        var wrongSet = _recording.Set(dimension: 5, model: "other");
        using var generator = _inner.WithChroma(wrongSet);

        var result = await generator.GenerateAsync(["abc"]);

        Assert.That(result, Has.Count.EqualTo(1));
        Assert.That(_recording.Client.CaptureErrorCount, Is.EqualTo(1));
    }

    [Test]
    public async Task GenerateAsync_CaptureDisabled_NothingQueued()
    {
        using var generator = _inner.WithChroma(_set);
        _recording.Client.CaptureEnabled = false;

        var result = await generator.GenerateAsync(["abc"]);

        Assert.That(result, Has.Count.EqualTo(1));
        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public async Task GenerateAsync_InsideSuppressionScope_NothingQueued()
    {
        using var generator = _inner.WithChroma(_set);

        using (CaptureSuppression.Begin())
        {
            await generator.GenerateAsync(["abc"]);
        }

        Assert.That(_recording.Client.Statistics.Received, Is.Zero);
    }

    [Test]
    public void WithChroma_BadOptions_ThrowsNamingField()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _inner.WithChroma(_set, o => o.MaxTextLength = 0));

        Assert.That(error!.ParamName, Is.EqualTo(nameof(ChromaEmbeddingGeneratorOptions.MaxTextLength)));
    }

    private IEnumerable<string> LazyTexts()
    {
        // A sequence that changes on every enumeration: capture must pair embeddings with what the inner generator saw.
        yield return "abcabc" + _inner.Calls;
    }

    /// <summary>Embeds a text as the counts of 'a', 'b' and 'c'; the text "boom" fails.</summary>
    /// <summary>Completes when told to, on the completing thread's terms (continuations never run inline).</summary>
    private sealed class GatedGenerator : IEmbeddingGenerator<string, Embedding<float>>
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Complete() => _gate.TrySetResult();

        public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
            IEnumerable<string> values,
            EmbeddingGenerationOptions? options = null,
            CancellationToken cancellationToken = default)
        {
            var texts = values.ToList();
            await _gate.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            return [.. texts.Select(t => new Embedding<float>(new float[] { t.Length, 0f, 0f }))];
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    private sealed class LetterCountGenerator : IEmbeddingGenerator<string, Embedding<float>>
    {
        public static readonly InvalidOperationException Boom = new("boom");

        public int Calls { get; private set; }

        public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
            IEnumerable<string> values,
            EmbeddingGenerationOptions? options = null,
            CancellationToken cancellationToken = default)
        {
            Calls++;
            await Task.Yield();
            var embeddings = new GeneratedEmbeddings<Embedding<float>>();
            foreach (var text in values)
            {
                if (text == "boom")
                {
                    throw Boom;
                }

                embeddings.Add(new Embedding<float>(new[] { Count(text, 'a'), Count(text, 'b'), Count(text, 'c') }));
            }

            return embeddings;
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

        public void Dispose()
        {
        }

        private static float Count(string text, char letter) => text.Count(c => c == letter);
    }
}
