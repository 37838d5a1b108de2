using Microsoft.Extensions.Time.Testing;

namespace Chroma.IntegrationTests.Query;

/// <summary>
/// <see cref="ChromaClientOptions.TimeProvider"/> is documented as the clock tests inject a fake one into. A gRPC deadline
/// is an instant the transport compares with the machine's own clock, so a query's deadline taken from a fake clock (a
/// <see cref="FakeTimeProvider"/> starts in 2000) was long past: every query failed with DeadlineExceeded at once.
/// </summary>
[TestFixture]
public sealed class InjectedClockQueryTests
{
    [Test, CancelAfter(60_000)]
    public async Task CountAsync_FakeTimeProviderInjected_AnsweredWithinRequestTimeout(CancellationToken cancellationToken)
    {
        // Arrange
        await using var fixture = await ServerFixture.StartAsync();
        var time = new FakeTimeProvider();
        await using var client = new ChromaClient(new ChromaClientOptions { Endpoint = fixture.Endpoint, TimeProvider = time });
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-fake-clock", "1", "fc", 2));
        set.LogTraining([1, 2], "a");
        await client.FlushAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);

        // Act
        var count = await client.CountAsync(set.Descriptor.Id, cancellationToken: cancellationToken);

        // Assert
        Assert.That(count, Is.EqualTo(1));
    }
}
