namespace Chroma.IntegrationTests.Recommendations;

/// <summary>
/// <see cref="ChromaClient.WaitForRecommendationsAsync"/> documents a <see cref="TimeoutException"/> when the ranking does
/// not cover everything within its timeout. Its first step, the flush of what this client logged, was bounded by a token
/// cancelled at the timeout, so a server that could not take the records in time (down, or slow) surfaced as an
/// <see cref="OperationCanceledException"/> the caller never asked for, which a caller handling the documented timeout
/// did not catch.
/// </summary>
[TestFixture]
public sealed class WaitForRecommendationsTimeoutTests
{
    [Test, CancelAfter(60_000)]
    public async Task WaitForRecommendationsAsync_RecordsNotDeliveredWithinTimeout_ThrowsTimeoutException(CancellationToken cancellationToken)
    {
        // Arrange: a set the server knows, then the server goes down with a record of this client still to deliver.
        await using var fixture = await ServerFixture.StartAsync();
        await using var client = new ChromaClient(new ChromaClientOptions { Endpoint = fixture.Endpoint, DrainTimeout = TimeSpan.Zero });
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-wait-timeout", "1", "fc", 2));
        set.LogTraining([1, 2], "a");
        await client.FlushAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);
        await fixture.StopAsync();
        set.LogTraining([3, 4], "b");

        // Act
        var wait = client.WaitForRecommendationsAsync(set.Descriptor.Id, TimeSpan.FromMilliseconds(300), cancellationToken: cancellationToken);
        Exception? ex = null;
        try
        {
            await wait.WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);
        }
        catch (Exception caught) when (caught is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            ex = caught;
        }

        // Assert
        Assert.That(ex, Is.InstanceOf<TimeoutException>());
    }
}
