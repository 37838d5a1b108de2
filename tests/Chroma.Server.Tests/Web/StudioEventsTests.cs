using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Web;

/// <summary>Studio's server-sent events stream (<c>/api/events</c>) against a real server.</summary>
[TestFixture]
public sealed class StudioEventsTests
{
    [Test]
    [CancelAfter(60_000)]
    public async Task Events_ServerStops_StreamEndsCleanlyAfterStoppingEvent(CancellationToken cancellationToken)
    {
        // A shutdown timeout longer than the test may run: the stream has to end because the server ends it, not
        // because the host stops waiting for it and resets the connection (what an open page used to see).
        var server = await RunningServer.StartAsync(o => o.ShutdownTimeout = TimeSpan.FromMinutes(2));
        using var http = new HttpClient();
        Task? stopped = null;
        try
        {
            using var response = await http.GetAsync(new Uri(server.Server.WebEndpoint!, "/api/events"), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
            var first = await reader.ReadLineAsync(cancellationToken);

            stopped = server.DisposeAsync().AsTask();
            var rest = await reader.ReadToEndAsync(cancellationToken); // a reset connection throws here
            await stopped;

            Assert.Multiple(() =>
            {
                Assert.That(first, Is.EqualTo("event: sets"), "the set counts come first");
                Assert.That(rest, Does.EndWith("event: stopping\ndata: {}\n\n"), "the last event says the server is stopping");
            });
        }
        finally
        {
            await (stopped ?? server.DisposeAsync().AsTask());
        }
    }
}
