using Chroma.Tests.Support;
using Chroma.Transport;

namespace Chroma.Tests.Transport;

/// <summary>When the delivery loop opens an ingest stream, and what disposal does when that loop died of a bug.</summary>
[TestFixture]
public sealed class DeliveryLoopLifetimeTests
{
    [Test, CancelAfter(20_000)]
    public async Task DisposeAsync_NothingLogged_NoIngestStreamWasEverOpened()
    {
        var sessions = new ScriptedIngestSessions();
        var client = TestClients.Create(sessions);
        _ = client.Set();

        await client.DisposeAsync();

        Assert.That(sessions.Opened, Is.Zero, "a client used only for queries never opens an ingest stream");
    }

    [Test, CancelAfter(20_000)]
    public async Task FlushAsync_FirstRecordLogged_OpensOneStreamAndDelivers(CancellationToken cancellationToken)
    {
        var sessions = new ScriptedIngestSessions();
        await using var client = TestClients.Create(sessions);

        client.Set().LogTraining([1, 0, 0, 0], "0");
        await client.FlushAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(sessions.Opened, Is.EqualTo(1));
            Assert.That(client.Statistics.Exported, Is.EqualTo(1));
        });
    }

    [Test, CancelAfter(20_000)]
    public async Task DisposeAsync_StreamFactoryFailsWithAnUnexpectedError_DoesNotThrowAndCountsTheRecordsFailed()
    {
        var client = TestClients.Create(new BrokenSessions(), o => o.DrainTimeout = TimeSpan.FromSeconds(2));
        var set = client.Set();
        for (var i = 0; i < 3; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
        }

        Assert.DoesNotThrowAsync(async () => await client.DisposeAsync(), "disposal never throws a delivery bug into the caller");
        Assert.That(client.Statistics.Failed, Is.EqualTo(3), "nothing is lost without being counted");
    }

    private sealed class BrokenSessions : IIngestSessionFactory
    {
        public IIngestSession Open(CancellationToken cancellationToken) => throw new InvalidOperationException("a transport bug, not an RPC status");
    }
}
