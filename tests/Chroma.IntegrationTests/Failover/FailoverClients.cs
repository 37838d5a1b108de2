using Chroma;

namespace Chroma.IntegrationTests.Failover;

/// <summary>Clients and waits shared by the failover tests.</summary>
internal static class FailoverClients
{
    /// <summary>A client over <paramref name="endpoints"/> (in that order) that holds every record it is given and retries fast.</summary>
    public static ChromaClient Create(int capacity, params Uri[] endpoints)
    {
        var options = new ChromaClientOptions
        {
            QueueCapacity = capacity,
            MaxBatchSize = 250,
            FlushInterval = TimeSpan.FromMilliseconds(10),
            AckTimeout = TimeSpan.FromSeconds(20),
            Retry = new ChromaRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(500) },
        };
        foreach (var endpoint in endpoints)
        {
            options.Endpoints.Add(endpoint);
        }

        return new ChromaClient(options);
    }

    /// <summary>Polls <paramref name="condition"/> every 10 ms until it holds; the test's token bounds the wait.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(10, cancellationToken);
        }
    }
}
