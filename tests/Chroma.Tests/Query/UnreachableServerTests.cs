using System.Net;
using System.Net.Sockets;

namespace Chroma.Tests.Query;

[TestFixture]
public sealed class UnreachableServerTests
{
    [Test, CancelAfter(30_000)]
    public async Task ListSetsAsync_NothingListens_ErrorNamesTheEndpointAndTheCause(CancellationToken cancellationToken)
    {
        // A port that was free a moment ago: connection refused.
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        await using var client = new ChromaClient(new Uri($"http://127.0.0.1:{port}"));

        var ex = Assert.ThrowsAsync<ChromaException>(() => client.ListSetsAsync(cancellationToken));

        Assert.Multiple(() =>
        {
            Assert.That(ex!.StatusCode, Is.EqualTo(Grpc.Core.StatusCode.Unavailable));
            Assert.That(ex.Message, Does.Contain($"127.0.0.1:{port}").And.Contain("not reachable"));
            Assert.That(ex.Message, Does.Contain("refused").IgnoreCase, "the cause, not only the transport's 'Error connecting to subchannel'");
        });
    }
}
