using Microsoft.Extensions.AI;

namespace Chroma.IntegrationTests.Ingest;

/// <summary>
/// The embedding generator adapter keeps the input text, cut to <see cref="ChromaEmbeddingGeneratorOptions.MaxTextLength"/>.
/// A cut through a character outside the BMP (an emoji: two UTF-16 units) left half of it, which the wire carries as
/// U+FFFD; a real server refuses such text, and the whole record, embedding included, was lost (counted failed).
/// </summary>
[TestFixture]
public sealed class EmbeddingGeneratorTextTests
{
    [Test, CancelAfter(60_000)]
    public async Task GenerateAsync_TextCutThroughAnEmoji_RecordStoredWithTheTextBeforeIt(CancellationToken cancellationToken)
    {
        // Arrange: a limit of 4 that falls between the two halves of the emoji.
        await using var fixture = await ServerFixture.StartAsync();
        var client = new ChromaClient(new ChromaClientOptions { Endpoint = fixture.Endpoint, FlushInterval = TimeSpan.FromHours(1) });
        await using var clientScope = client;
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-generator-text", "1", "embed", 2));
        using var generator = new FixedGenerator().WithChroma(set, o => o.MaxTextLength = 4);

        // Act
        await generator.GenerateAsync(["abc\U0001F600 and more", "plain text"], cancellationToken: cancellationToken);
        await client.FlushAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);

        // Assert
        var stats = client.Statistics;
        var stored = await client.CountAsync(set.Descriptor.Id, cancellationToken: cancellationToken);
        Assert.Multiple(() =>
        {
            Assert.That(stats.Failed, Is.Zero, "no record refused by the server");
            Assert.That(stats.Exported, Is.EqualTo(2));
            Assert.That(stored, Is.EqualTo(2), "both embeddings stored");
        });
    }

    private sealed class FixedGenerator : IEmbeddingGenerator<string, Embedding<float>>
    {
        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
            IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(values.Select((_, i) => new Embedding<float>(new[] { i, 1f }))));

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
