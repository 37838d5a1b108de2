using Chroma.Protocol.V1;

namespace Chroma.Tests.Support;

/// <summary>A real <see cref="ChromaClient"/> whose ingest stream is an in-memory <see cref="ScriptedIngestSessions"/> that acks every batch.</summary>
internal sealed class RecordingClient : IAsyncDisposable
{
    private static readonly TimeSpan s_flushTimeout = TimeSpan.FromSeconds(10);

    public RecordingClient(int maxBatchSize = 512, int queueCapacity = 10_000)
    {
        Client = new ChromaClient(
            new ChromaClientOptions { MaxBatchSize = maxBatchSize, QueueCapacity = queueCapacity, FlushInterval = TimeSpan.FromMilliseconds(20) },
            Factory);
    }

    public ScriptedIngestSessions Factory { get; } = new();

    public ChromaClient Client { get; }

    public EmbeddingSet Set(int dimension, string model = "test-model", IReadOnlyList<string>? classNames = null) =>
        Client.GetEmbeddingSet(new EmbeddingSetDescriptor(model, "1", "layer", dimension), classNames);

    /// <summary>Waits until every record received so far is acknowledged, then returns all records sent.</summary>
    public async Task<IReadOnlyList<Record>> SentRecordsAsync(CancellationToken cancellationToken = default)
    {
        await Client.FlushAsync(cancellationToken).WaitAsync(s_flushTimeout, cancellationToken);
        return Factory.Records;
    }

    public ValueTask DisposeAsync() => Client.DisposeAsync();
}
