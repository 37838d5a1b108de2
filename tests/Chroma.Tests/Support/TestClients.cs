using Chroma.Transport;

namespace Chroma.Tests.Support;

/// <summary>Builds clients over a scripted session factory, with options tuned for fast tests.</summary>
internal static class TestClients
{
    public static ChromaClient Create(IIngestSessionFactory sessions, Action<ChromaClientOptions>? configure = null)
    {
        var options = new ChromaClientOptions
        {
            Endpoint = new Uri("http://127.0.0.1:1"),
            FlushInterval = TimeSpan.FromMilliseconds(5),
            DrainTimeout = TimeSpan.FromSeconds(5),
            Retry = new ChromaRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5) },
        };
        configure?.Invoke(options);
        return new ChromaClient(options, sessions);
    }

    public static EmbeddingSet Set(this ChromaClient client, int dimension = 4) =>
        client.GetEmbeddingSet(new EmbeddingSetDescriptor("unit", "1", "fc", dimension));
}
